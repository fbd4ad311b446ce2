package dev.parley.adapter.inmemory;

import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunSignals;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The hints of one {@link InMemoryChatStore}, delivered in order on one daemon thread that exists
 * only while there is something to deliver. Nothing is queued while nobody listens.
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
        delivery.execute(() -> {
            for (Consumer<RunId> listener : listeners) {
                try {
                    listener.accept(runId);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "a run signal listener failed: " + e);
                }
            }
        });
    }
}
