package dev.parley.chat.core;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The slots of the runs this server executes at once. A run takes a slot before it starts here and
 * gives it back when its execution ends; a run that finds no slot stays {@code queued} in the store,
 * for this server or any other sharing the store to start once it has room. A run resumed after an
 * approval takes a slot even when none is free (it is in progress in the store already). Thread-safe.
 */
final class Admission {
    private final int max;
    private final AtomicInteger taken = new AtomicInteger();
    private final AtomicLong deferred = new AtomicLong();
    private final AtomicLong refusedActiveRuns = new AtomicLong();
    /** Runs may wait in the store for a server with room: a send queues behind them, a freed slot looks for them. */
    private final AtomicBoolean backlog = new AtomicBoolean();

    Admission(int max) {
        this.max = max;
    }

    int max() {
        return max;
    }

    int executing() {
        return taken.get();
    }

    long deferred() {
        return deferred.get();
    }

    long refusedActiveRuns() {
        return refusedActiveRuns.get();
    }

    /** A send was refused because its user had the most active runs allowed (counted here for the metrics). */
    void refusedActiveRun() {
        refusedActiveRuns.incrementAndGet();
    }

    boolean hasRoom() {
        return taken.get() < max;
    }

    /** Takes a slot; false when all are taken. */
    boolean tryTake() {
        while (true) {
            int now = taken.get();
            if (now >= max) {
                return false;
            }
            if (taken.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Takes a slot even when all are taken. */
    void force() {
        taken.incrementAndGet();
    }

    void release() {
        taken.decrementAndGet();
    }

    /** A send accepted here left its run queued because no slot was free here. */
    void deferredOne() {
        deferred.incrementAndGet();
        backlog.set(true);
    }

    boolean hasBacklog() {
        return backlog.get();
    }

    void backlog(boolean waiting) {
        backlog.set(waiting);
    }
}
