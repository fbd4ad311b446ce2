package dev.parley.adapter.inmemory;

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

/**
 * The hints of one {@link InMemoryChatStore}, delivered in order on one daemon thread that exists
 * only while there is something to deliver. Nothing is queued while nobody listens. Hints that come
 * while the thread delivers are delivered in the same pass: one wake-up of the thread for a burst of
 * hints (the two of a committed transaction, or those of concurrent ones), not one each.
 */
final class InMemoryRunSignals implements RunSignals {
    private static final System.Logger LOG = System.getLogger(InMemoryRunSignals.class.getName());

    private final List<Consumer<RunId>> runListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<RunId>> eventListeners = new CopyOnWriteArrayList<>();
    private final ThreadPoolExecutor delivery = new ThreadPoolExecutor(0, 1, 2, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
            r -> {
                Thread t = new Thread(r, "parley-inmemory-signals");
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

    void runChanged(RunId runId) {
        deliver(runListeners, runId);
    }

    void eventsStored(RunId runId) {
        deliver(eventListeners, runId);
    }

    private static Registration register(List<Consumer<RunId>> listeners, Consumer<RunId> listener) {
        // a wrapper per registration, so that registering one listener twice gives two registrations
        Consumer<RunId> entry = listener::accept;
        listeners.add(entry);
        return () -> listeners.remove(entry);
    }

    private void deliver(List<Consumer<RunId>> listeners, RunId runId) {
        if (listeners.isEmpty()) {
            return;
        }
        queued.add(() -> {
            for (Consumer<RunId> listener : listeners) {
                try {
                    listener.accept(runId);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "a run signal listener failed: " + e);
                }
            }
        });
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
}
