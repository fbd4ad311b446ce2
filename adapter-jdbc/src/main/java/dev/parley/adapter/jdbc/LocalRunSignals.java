package dev.parley.adapter.jdbc;

import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunSignals;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hints for the listeners of this process: changes made through this store, delivered in order on
 * one daemon thread that exists only while there is something to deliver; hints that come while it
 * delivers go in the same pass (one wake-up for a burst, not one per hint). On a database without
 * notifications (H2) these are all the hints there are; on PostgreSQL {@link PgRunSignals} adds
 * those of other servers.
 */
final class LocalRunSignals implements RunSignals, Db.Hints {
    private static final Logger LOG = LoggerFactory.getLogger(LocalRunSignals.class);

    private final List<Consumer<RunId>> runListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<RunId>> eventListeners = new CopyOnWriteArrayList<>();
    private final ThreadPoolExecutor delivery = new ThreadPoolExecutor(0, 1, 2, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            r -> {
                Thread t = new Thread(r, "parley-jdbc-signals");
                t.setDaemon(true);
                return t;
            });
    /** Hints waiting for the delivery thread, in order. */
    private final Queue<Runnable> queued = new ConcurrentLinkedQueue<>();
    /** True while a pass of the delivery thread is asked for or under way. */
    private final AtomicBoolean draining = new AtomicBoolean();

    @Override
    public Registration onRunChanged(Consumer<RunId> listener) {
        return register(runListeners, listener);
    }

    @Override
    public Registration onEventsStored(Consumer<RunId> listener) {
        return register(eventListeners, listener);
    }

    @Override
    public void deliver(Db.Hint hint, String runId) {
        List<Consumer<RunId>> listeners = listeners(hint);
        if (listeners.isEmpty()) {
            return;
        }
        RunId id = new RunId(runId);
        queued.add(() -> Listeners.call(listeners, id, LOG));
        if (draining.compareAndSet(false, true)) {
            delivery.execute(this::drain);
        }
    }

    /** Delivers every queued hint, in order, and those that come meanwhile. One pass at a time. */
    private void drain() {
        try {
            for (Runnable hint = queued.poll(); hint != null; hint = queued.poll()) {
                hint.run();
            }
        } finally {
            draining.set(false);
        }
        // a hint queued between the last poll and the flag's reset saw the flag up and left itself to this pass
        if (!queued.isEmpty() && draining.compareAndSet(false, true)) {
            delivery.execute(this::drain);
        }
    }

    /** Calls the listeners of {@code hint} on the calling thread. */
    void deliverHere(Db.Hint hint, RunId runId) {
        Listeners.call(listeners(hint), runId, LOG);
    }

    private List<Consumer<RunId>> listeners(Db.Hint hint) {
        return hint == Db.Hint.RUN_CHANGED ? runListeners : eventListeners;
    }

    private static Registration register(List<Consumer<RunId>> listeners, Consumer<RunId> listener) {
        Consumer<RunId> entry = listener::accept; // one entry per registration
        listeners.add(entry);
        return () -> listeners.remove(entry);
    }

    /** Calls listeners in turn; one that throws does not stop the others. */
    static final class Listeners {
        private Listeners() {}

        static void call(List<Consumer<RunId>> listeners, RunId runId, Logger log) {
            for (Consumer<RunId> listener : listeners) {
                try {
                    listener.accept(runId);
                } catch (RuntimeException e) {
                    log.warn("A run signal listener failed", e);
                }
            }
        }
    }
}
