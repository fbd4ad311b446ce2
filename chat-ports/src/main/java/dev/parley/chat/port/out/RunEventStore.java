package dev.parley.chat.port.out;

import dev.parley.chat.model.EventLogRules;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import java.util.List;

/**
 * The durable log of run events, from which any server replays a run from any seq. Heartbeats are
 * never stored.
 */
public interface RunEventStore {

    /**
     * Appends events (of one or several runs) atomically, or none of them. Each run's log keeps
     * {@link EventLogRules}: a seq already stored is a ConflictException ({@code duplicate}), an event
     * after the run's terminal event a ConflictException ({@code run_ended}), a heartbeat or a gap an
     * IllegalArgumentException; {@link EventLogRules#requireAppendable} checks an event that way.
     */
    void append(List<RunEvent> events);

    /** Up to {@code max} events of the run with {@code seq > afterSeq}, in seq order. */
    List<RunEvent> read(RunId runId, long afterSeq, int max);

    /** The highest stored seq of the run, or 0. */
    long lastSeq(RunId runId);

    /**
     * The event log retention: removes the logs of up to {@code max} runs that ended before
     * {@code endedBefore} (their runs, steps and messages stay), and remembers that they did
     * ({@link #expired}). Returns how many logs it removed; call again while it returns {@code max}.
     * A store without retention keeps every log (the default).
     */
    default int expire(java.time.Instant endedBefore, int max) {
        return 0;
    }

    /** True when {@link #expire} removed the run's log. */
    default boolean expired(RunId runId) {
        return false;
    }
}
