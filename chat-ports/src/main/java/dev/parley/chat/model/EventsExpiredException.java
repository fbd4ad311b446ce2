package dev.parley.chat.model;

/**
 * The run's event log was removed by the event log retention ({@code events_expired}): the run,
 * its steps and its messages stay readable, its events can no longer be replayed.
 */
public class EventsExpiredException extends ChatException {
    private static final long serialVersionUID = 1L;

    public EventsExpiredException(RunId runId) {
        super("events_expired", "The events of run " + runId + " were removed after the event log's retention");
    }
}
