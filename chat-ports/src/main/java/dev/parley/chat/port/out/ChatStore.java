package dev.parley.chat.port.out;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * All of a backend's stores, and the transaction boundary around them. Every store method is
 * thread-safe and atomic on its own; {@link #inTransaction} makes several calls atomic together.
 * Failures to reach the backend surface as
 * {@link dev.parley.chat.model.StorageUnavailableException}; nothing technology-specific
 * (SQLException and the like) crosses this port.
 */
public interface ChatStore {

    ThreadStore threads();

    MessageStore messages();

    RunStore runs();

    RunEventStore events();

    IdempotencyStore idempotency();

    /** Stored agents and their versions; {@link AgentStore#none()} for a store that keeps none. */
    default AgentStore agents() {
        return AgentStore.none();
    }

    /** The usage ledger; {@link UsageStore#none()} for a store that keeps none. */
    default UsageStore usage() {
        return UsageStore.none();
    }

    /**
     * Leases for periodic jobs; {@link JobLeases#unshared()} by default, which suits a store used by
     * one process only. A store shared by several processes keeps them where all of them see them.
     */
    default JobLeases leases() {
        return JobLeases.unshared();
    }

    /**
     * Tells that a server sharing the store stopped sooner than its run leases expire;
     * {@link ServerLiveness#none()} by default (runs of a stopped server then end by their leases).
     */
    default ServerLiveness liveness() {
        return ServerLiveness.none();
    }

    /**
     * Runs {@code work} in one transaction: every store call it makes on this store's stores
     * (from the calling thread) commits together when it returns, or not at all when it throws (the
     * exception is rethrown). Nested calls join the outer transaction. Row locks taken by
     * {@link ThreadStore#lock} are held until the outermost transaction ends.
     *
     * <p>A store call (or a nested transaction) that throws inside {@code work} fails the whole
     * transaction, even when {@code work} catches the exception and goes on: later store calls in it
     * throw IllegalStateException, and the transaction rolls back and rethrows that first failure
     * when {@code work} returns. (A database such as PostgreSQL can do nothing more in a transaction
     * after a failed statement; a savepoint around every call that may fail would cost each of them
     * two more round trips.) To try something that may conflict and carry on, try it in a
     * transaction of its own.
     */
    <T> T inTransaction(Supplier<T> work);

    /** Same as {@link #inTransaction(Supplier)} for work without a result. */
    default void inTransaction(Runnable work) {
        inTransaction(() -> {
            work.run();
            return null;
        });
    }

    /**
     * Stores a run's answer and its completion together, in one transaction (joining the caller's):
     * appends {@code answer} below its thread's active leaf ({@link MessageStore#append}), replaces
     * the step {@code turnEnd} ({@link RunStore#updateStep}) and moves the run from {@code expected}
     * to {@code completed} ({@link RunStore#update}, which counts its usage once), and returns the
     * stored answer. When the run is no longer {@code expected} it throws ConflictException
     * ({@link ConflictException.Reason#RUN_ENDED}), and the transaction it fails keeps nothing. A store
     * may do this with fewer writes than the three calls, which the default makes: a store of SQL
     * changes the thread's row once for the answer and the run's usage.
     */
    default Message completeRun(Message answer, Step turnEnd, Run completed, RunStatus expected) {
        return inTransaction(() -> {
            Message stored = messages().append(answer);
            runs().updateStep(turnEnd);
            if (!runs().update(completed, expected)) {
                throw ConflictException.runNotIn(completed.id(), expected);
            }
            return stored;
        });
    }

    /**
     * {@link #completeRun}, telling also whether a queued run may wait on the run's thread. A store that looks
     * reads it in the same transaction after the answer's append locked the thread: a send that queues a run
     * behind this one commits either before that read, which sees its run, or after this transaction, and then
     * finds the thread without a run in progress. {@code runQueued} is false only when the store looked and saw
     * no queued run; the caller then does not look for the thread's next run. The default does not look (it
     * answers true, and the caller looks after the end): a store looks when it can do so at no cost to the
     * turn, such as in a statement it makes anyway.
     */
    default Completion completeRunAndLook(Message answer, Step turnEnd, Run completed, RunStatus expected) {
        return new Completion(completeRun(answer, turnEnd, completed, expected), true);
    }

    /**
     * What {@link #completeRunAndLook} stored, and whether a queued run may wait on the thread ({@code runQueued}:
     * false only when none does).
     */
    record Completion(Message answer, boolean runQueued) {
        public Completion {
            Objects.requireNonNull(answer, "answer");
        }
    }

    /** Returns normally when the backend answers; throws StorageUnavailableException otherwise. */
    void ping();

    /**
     * Wake-up hints about changes to runs and their event logs made through this store, and, for a
     * store shared by several processes, through theirs. None by default: readers then poll.
     */
    default RunSignals signals() {
        return RunSignals.none();
    }
}
