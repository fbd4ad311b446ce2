package dev.parley.chat.port.in;

/**
 * A push subscription to one run's events, as {@link RunUseCases#subscribe(String, dev.parley.chat.model.ThreadId,
 * dev.parley.chat.model.RunId, long, dev.parley.chat.model.DisconnectPolicy, RunEventSink)} hands it out: the
 * events go to its {@link RunEventSink}; closing it stops them. Thread-safe.
 */
@FunctionalInterface
public interface Subscription extends AutoCloseable {

    /**
     * Stops the delivery: once this returns, the sink is handed no further event (a call under way may
     * finish), and then gets {@link RunEventSink#onEnd} (with null), on a delivery thread. Never waits
     * for the sink; may be called from the sink itself, from any thread, any number of times.
     */
    @Override
    void close();
}
