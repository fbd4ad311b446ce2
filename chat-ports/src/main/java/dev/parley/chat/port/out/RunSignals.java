package dev.parley.chat.port.out;

import dev.parley.chat.model.RunId;
import java.util.function.Consumer;

/**
 * Wake-up hints about runs from a store, for every server sharing it: a run ended (it completed,
 * failed, or was cancelled, perhaps by another server) or new events of a run were stored. A hint
 * only says "look again": it may come late, twice, for a run nobody here follows, or not at all
 * (a store shared by several processes loses hints while it is unreachable). The store stays the
 * source of truth, so a listener re-reads it and keeps polling at a modest interval as a fallback.
 *
 * <p>Hints are sent after the change is committed. Listeners are called on a thread of the
 * implementation, one hint at a time, and must return quickly (hand real work to another thread).
 * Thread-safe.
 */
public interface RunSignals {

    /**
     * Calls {@code listener} with the id of each run whose stored status became terminal. A store
     * may hint other changes of a run's row too; it need not (nothing here waits for a run to start).
     */
    Registration onRunChanged(Consumer<RunId> listener);

    /** Calls {@code listener} with the id of each run whose event log grew. */
    Registration onEventsStored(Consumer<RunId> listener);

    /**
     * Signals that never fire: readers rely on polling alone. Always the same instance, so that a
     * reader can tell a store without hints ({@code signals == RunSignals.none()}) and poll sooner.
     */
    static RunSignals none() {
        return NoRunSignals.INSTANCE;
    }

    /** A registered listener; closing it stops the calls (a call already under way may finish). */
    @FunctionalInterface
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
