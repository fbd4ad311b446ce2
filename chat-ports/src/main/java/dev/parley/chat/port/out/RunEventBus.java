package dev.parley.chat.port.out;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;

/**
 * Carries run events from the run engine to every reader, live or late. The bus owns the event
 * log: it persists what it publishes (to a {@link RunEventStore}) and replays from it, so
 * {@link #subscribe} works for a run that is live, finished, or (with a shared store) executing
 * on another server. Thread-safe.
 */
public interface RunEventBus {

    /**
     * Publishes the run's next event. Events of one run are published by one writer at a time with
     * seq {@code lastSeq + 1}; anything else is an IllegalArgumentException. A terminal event is
     * durable when this returns.
     */
    void publish(RunEvent event);

    /** The highest published seq of the run, or 0. */
    long lastSeq(RunId runId);

    /** Reads the run's events with {@code seq > afterSeq}, then follows it live until its terminal event. */
    RunSubscription subscribe(RunId runId, long afterSeq);
}
