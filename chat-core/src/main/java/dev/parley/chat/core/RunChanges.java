package dev.parley.chat.core;

import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunSignals;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Wake-ups of callers waiting for a run that does not execute here (queued, or executing on another
 * server): a run's next change that such a waiter looks for is its start or end here, or the store's
 * hint that it ended (on any server sharing the store). Hints may be lost: wait with a bounded pause.
 */
final class RunChanges implements AutoCloseable {
    private final ConcurrentMap<RunId, CompletableFuture<Void>> next = new ConcurrentHashMap<>();
    private final RunSignals.Registration hints;

    RunChanges(RunSignals signals) {
        this.hints = signals.onRunChanged(this::changed);
    }

    /** Completes at the run's next change; take it before reading the run, so that no change after the read is missed. */
    CompletableFuture<Void> next(RunId runId) {
        return next.computeIfAbsent(runId, id -> new CompletableFuture<>());
    }

    /** A waiter that took {@code change} leaves. */
    void forget(RunId runId, CompletableFuture<Void> change) {
        if (change != null && !change.isDone()) {
            next.remove(runId, change);
        }
    }

    /** The run started or ended here, or the store hinted that it changed: its waiters look again. */
    void changed(RunId runId) {
        CompletableFuture<Void> change = next.remove(runId);
        if (change != null) {
            change.complete(null);
        }
    }

    @Override
    public void close() {
        hints.close();
    }
}
