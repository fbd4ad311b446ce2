package dev.parley.chat.port.out;

import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.ThreadId;
import java.util.List;
import java.util.Optional;

/**
 * Runs and their steps. The store enforces, for all servers sharing it, that a thread has at most
 * one run {@code in_progress}: an insert or update that would make a second one throws a
 * ConflictException with code {@code run_in_progress}.
 */
public interface RunStore {

    /** Stores a new run. */
    void insert(Run run);

    Optional<Run> find(RunId id);

    /**
     * Replaces the run if its stored status is still {@code expected} (compare-and-set), and
     * returns whether it did. This is how concurrent completers and cancellers agree on one outcome.
     */
    boolean update(Run run, RunStatus expected);

    /** The thread's queued and in-progress runs, oldest first. */
    List<Run> active(ThreadId threadId);

    /** A keyset page of the thread's runs, newest first. */
    Page<Run> page(ThreadId threadId, PageRequest page);

    /** Every run in {@code status} across all threads, oldest first, at most {@code max}. */
    List<Run> withStatus(RunStatus status, int max);

    void insertStep(Step step);

    /** Replaces a stored step (matched by id). */
    void updateStep(Step step);

    /** The run's steps ordered by position. */
    List<Step> steps(RunId runId);
}
