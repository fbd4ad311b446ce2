package dev.parley.chat.port.out;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import java.util.List;

/**
 * The durable log of run events, from which any server replays a run from any seq. Heartbeats are
 * never stored.
 */
public interface RunEventStore {

    /**
     * Appends events (of one or several runs) atomically. Each run's events must continue its log
     * without gaps; a seq already stored is a ConflictException ({@code duplicate}). A run's log ends
     * with its terminal event: appending after it is a ConflictException ({@code run_ended}).
     */
    void append(List<RunEvent> events);

    /** Up to {@code max} events of the run with {@code seq > afterSeq}, in seq order. */
    List<RunEvent> read(RunId runId, long afterSeq, int max);

    /** The highest stored seq of the run, or 0. */
    long lastSeq(RunId runId);
}
