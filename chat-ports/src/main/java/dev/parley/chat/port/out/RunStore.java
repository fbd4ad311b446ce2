package dev.parley.chat.port.out;

import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Runs and their steps. The store enforces, for all servers sharing it, that a thread has at most
 * one run {@code in_progress} or {@code requires_action} ({@link RunStatus#holdsThread()}): an insert
 * or update that would make a second one throws a ConflictException with code {@code run_in_progress}.
 *
 * <p>A run {@code requires_action} waits for decisions on tool calls: it has no owner and no lease,
 * only the time by which it must be decided ({@link #pause}); {@link #resume} gives it an owner again.
 *
 * <p>A run in progress is held by an owner (the server instance executing it) under a lease that
 * the owner renews while it executes. A run whose lease expired belongs to a server that stopped;
 * any server may then end it with {@link #updateIfLeaseExpired}. Lease times come from the callers'
 * clocks, so servers sharing a store keep their clocks in sync.
 */
public interface RunStore {

    /** Stores a new run. */
    void insert(Run run);

    /**
     * Stores a new run that starts at once ({@code started}, in progress), held by {@code owner}
     * under a lease that expires at {@code leaseExpiresAt}: what {@link #insert} of its queued form
     * followed by {@link #start} stores, in one step where the store can. A second run in progress on
     * the thread is a ConflictException {@code run_in_progress}. The default does exactly those two
     * calls, which take effect together inside {@link ChatStore#inTransaction} (where the core calls it).
     */
    default void insertStarted(Run started, String owner, Instant leaseExpiresAt) {
        if (started.status() != RunStatus.IN_PROGRESS) {
            throw new IllegalArgumentException("insertStarted stores a run in progress");
        }
        insert(Run.queued(started.id(), started.threadId(), started.agentId(), started.model(), started.userMessageId(),
                started.createdAt()));
        if (!start(started, owner, leaseExpiresAt)) {
            throw new IllegalStateException("run " + started.id() + " was changed before it could start");
        }
    }

    Optional<Run> find(RunId id);

    /**
     * Replaces the run if its stored status is still {@code expected} (compare-and-set), and
     * returns whether it did. This is how concurrent completers and cancellers agree on one outcome.
     *
     * <p>A change that ends a run (to a terminal status; {@link #updateIfLeaseExpired} too) adds the
     * run's usage and cost to its thread's totals and to the usage ledger ({@link UsageStore}), at
     * the hour of its {@code completedAt}, atomically with the change: each ended run counts once.
     */
    boolean update(Run run, RunStatus expected);

    /**
     * Starts a queued run: replaces it with {@code started} (in progress) if its stored status is
     * still {@code queued}, held by {@code owner} under a lease that expires at {@code leaseExpiresAt}.
     * A compare-and-set like {@link #update}; a second run in progress on the thread is a
     * ConflictException {@code run_in_progress}.
     */
    boolean start(Run started, String owner, Instant leaseExpiresAt);

    /**
     * Moves the lease of a run in progress held by {@code owner} to {@code leaseExpiresAt}, expired or
     * not; false when the run is no longer in progress, is missing, or another owner holds it.
     */
    boolean renewLease(RunId id, String owner, Instant leaseExpiresAt);

    /**
     * When the lease of the run's server expires, as last set by {@link #start}, {@link #insertStarted}
     * or {@link #renewLease}; kept after the run ended. Empty when the run is missing or was never
     * held under a lease.
     */
    Optional<Instant> leaseExpiresAt(RunId id);

    /**
     * Runs in progress on live threads whose lease expired at or before {@code now}, soonest expired
     * first, at most {@code max}. A run in progress without a lease (started by other means than
     * {@link #start}) counts as expired, and comes first.
     */
    List<Run> expiredLeases(Instant now, int max);

    /**
     * Replaces a run in progress with {@code run} only while its lease is expired at {@code now}: a
     * compare-and-set on status {@code in_progress} and on the lease, so that ending the run of a
     * stopped server never races a renewal by a live one. False when the run is no longer in progress
     * or its lease runs past {@code now}.
     */
    boolean updateIfLeaseExpired(Run run, Instant now);

    /**
     * Pauses a run in progress: replaces it with {@code waiting} (status {@code requires_action}) if its
     * stored status is still {@code in_progress} (compare-and-set), drops its owner and lease, and
     * records {@code decideBy}, when its undecided tool calls are denied. False when it was no longer in progress.
     */
    boolean pause(Run waiting, Instant decideBy);

    /**
     * Resumes a waiting run: replaces it with {@code resumed} (in progress) if its stored status is
     * still {@code requires_action}, held by {@code owner} under a lease that expires at
     * {@code leaseExpiresAt}. A compare-and-set like {@link #start}.
     */
    boolean resume(Run resumed, String owner, Instant leaseExpiresAt);

    /**
     * Moves the decision time of a waiting run ({@code requires_action}) to {@code decideBy}, so that
     * {@link #decisionsDue} returns it from then on: a server that stops after recording the last
     * decision of a run, before resuming it, hands it to the next pass of a live server. False when the
     * run does not wait. A store without it returns false, and such a run resumes at its first decision time.
     */
    default boolean expediteDecision(RunId id, Instant decideBy) {
        return false;
    }

    /**
     * Runs {@code requires_action} on live threads whose decision time ({@link #pause}) is at or before
     * {@code now}, soonest first, at most {@code max}.
     */
    List<Run> decisionsDue(Instant now, int max);

    /**
     * Counts the active runs ({@code queued}, {@code in_progress}, {@code requires_action}) of the
     * live threads {@code userId} owns, and locks that count until the surrounding
     * {@link ChatStore#inTransaction} ends: a concurrent call for the same user, on any server sharing
     * the store, waits until then, so a check of the count followed by an insert in one transaction
     * holds exactly. Called inside a transaction.
     */
    int lockActiveRunsOf(String userId);

    /** How many runs are in {@code status} across all live threads. */
    default long count(RunStatus status) {
        return withStatus(status, Integer.MAX_VALUE).size();
    }

    /**
     * Queued runs that could start now, oldest first, at most {@code max}: each is the oldest queued
     * run of a live thread on which no run is in progress or waiting for approval. The default filters
     * {@link #withStatus} through {@link #active}; a store should answer it in one query.
     */
    default List<Run> startable(int max) {
        List<Run> found = new java.util.ArrayList<>();
        java.util.Set<ThreadId> seen = new java.util.HashSet<>();
        for (Run queued : withStatus(RunStatus.QUEUED, Integer.MAX_VALUE)) {
            if (found.size() >= max) {
                break;
            }
            if (seen.add(queued.threadId()) && active(queued.threadId()).stream().noneMatch(r -> r.status().holdsThread())) {
                found.add(queued);
            }
        }
        return List.copyOf(found);
    }

    /** The thread's queued, in-progress and waiting ({@code requires_action}) runs, oldest first. */
    List<Run> active(ThreadId threadId);

    /** A keyset page of the thread's runs, newest first. */
    Page<Run> page(ThreadId threadId, PageRequest page);

    /** Every run in {@code status} across all threads, oldest first, at most {@code max}. */
    List<Run> withStatus(RunStatus status, int max);

    void insertStep(Step step);

    /** Replaces a stored step (matched by id). */
    void updateStep(Step step);

    /**
     * Replaces a stored step if its stored status is still {@code expected} (compare-and-set); false
     * otherwise or when it is missing.
     */
    boolean updateStep(Step step, StepStatus expected);

    /** The run's steps ordered by position. */
    List<Step> steps(RunId runId);

    /**
     * Records what a run was given (its {@link RunInstructions}: the agent version, the rendered
     * instructions, the model settings it sends and the answer its send continued), once, when the run
     * is stored (in the same transaction); {@link #instructions} returns it equal. A run started or
     * resumed later, on any server, runs with what was recorded. Removed with the run. Stores that do
     * not keep them ignore it (such a run then runs with its agent's latest instructions and settings).
     */
    default void recordInstructions(RunId id, RunInstructions instructions) {
    }

    /** What {@link #recordInstructions} recorded for the run, or empty. */
    default Optional<RunInstructions> instructions(RunId id) {
        return Optional.empty();
    }

    /**
     * Records where a run came from (its request id and trace context), once, when the run is stored
     * (in the same transaction). Removed with the run. Stores that do not keep it ignore it.
     */
    default void recordOrigin(RunId id, RunOrigin origin) {
    }

    /**
     * {@link #recordInstructions} and, unless it is empty, {@link #recordOrigin} at once: what a send
     * records with the run it stores. A store that can write both in one statement overrides it.
     */
    default void recordRun(RunId id, RunInstructions instructions, RunOrigin origin) {
        recordInstructions(id, instructions);
        if (!origin.isEmpty()) {
            recordOrigin(id, origin);
        }
    }

    /**
     * {@link #insert} and {@link #recordRun} at once: a queued run a send stores, with what it was given and
     * where it came from. The default makes the two calls; a store that can write the run and its record in
     * one statement overrides it.
     */
    default void insert(Run run, RunInstructions instructions, RunOrigin origin) {
        insert(run);
        recordRun(run.id(), instructions, origin);
    }

    /**
     * {@link #insertStarted(Run, String, Instant)} and {@link #recordRun} at once: a run a send stores and
     * starts, with what it was given and where it came from. The default makes the two calls; a store that
     * can write the run and its record in one statement overrides it.
     */
    default void insertStarted(Run started, String owner, Instant leaseExpiresAt, RunInstructions instructions, RunOrigin origin) {
        insertStarted(started, owner, leaseExpiresAt);
        recordRun(started.id(), instructions, origin);
    }

    /**
     * {@link #insertStarted(Run, String, Instant, RunInstructions, RunOrigin)} and {@link #insertStep} of the run's
     * first step at once: the run a send starts, ready for its first model turn. The default makes the two calls;
     * a store that can write both in one round trip overrides it.
     */
    default void insertStarted(Run started, String owner, Instant leaseExpiresAt, RunInstructions instructions, RunOrigin origin,
                               Step firstStep) {
        if (!firstStep.runId().equals(started.id())) {
            throw new IllegalArgumentException("the first step belongs to another run");
        }
        insertStarted(started, owner, leaseExpiresAt, instructions, origin);
        insertStep(firstStep);
    }

    /** What {@link #recordOrigin} recorded for the run, or {@link RunOrigin#NONE}. */
    default RunOrigin origin(RunId id) {
        return RunOrigin.NONE;
    }
}
