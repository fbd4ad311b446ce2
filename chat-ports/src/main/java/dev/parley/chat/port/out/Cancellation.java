package dev.parley.chat.port.out;

import dev.parley.chat.model.RunCancelledException;
import java.util.ArrayList;
import java.util.List;

/**
 * A cancel signal shared by the run engine, the model call and tool calls. Thread-safe. Models
 * and tools register a callback with {@link #onCancel} to stop at once (close a socket, interrupt a
 * thread) instead of polling.
 */
public final class Cancellation {
    private final Object lock = new Object();
    /** Guarded by {@link #lock}; null until a callback is registered (most signals never get one, or one or two). */
    private List<Runnable> callbacks;
    private volatile boolean cancelled;

    /** Signals cancellation and runs every registered callback (once). Later calls do nothing. */
    public void cancel() {
        List<Runnable> toRun;
        synchronized (lock) {
            if (cancelled) {
                return;
            }
            cancelled = true;
            toRun = callbacks == null ? List.of() : callbacks; // detached: no one adds to or removes from it any more
            callbacks = null;
        }
        for (Runnable r : toRun) {
            try {
                r.run();
            } catch (RuntimeException ignored) {
                // one failing callback must not stop the others
            }
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /** Throws {@link RunCancelledException} once cancelled. */
    public void throwIfCancelled() {
        if (cancelled) {
            throw new RunCancelledException();
        }
    }

    /**
     * Runs {@code callback} on cancel, or right away when already cancelled. Closing the returned
     * registration removes the callback.
     */
    public Registration onCancel(Runnable callback) {
        synchronized (lock) {
            if (!cancelled) {
                if (callbacks == null) {
                    callbacks = new ArrayList<>(2);
                }
                callbacks.add(callback);
                return () -> {
                    synchronized (lock) {
                        if (callbacks != null) {
                            callbacks.remove(callback);
                        }
                    }
                };
            }
        }
        callback.run();
        return () -> { };
    }

    /** A registered callback; closing it unregisters. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
