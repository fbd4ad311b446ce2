package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.Subscription;

/**
 * A subscription whose end before the terminal event cancels the run ({@code on_disconnect: cancel}):
 * closed by its owner, or ended by its sink failing (a client gone) or the log failing to be read. A
 * bus shutting down cancels nothing: the run goes on, or is recovered, elsewhere.
 */
final class CancelOnEarlyEnd implements RunEventSink, Subscription {
    private final RunEventSink sink;
    private final Runnable cancel;
    private volatile Subscription subscription;
    private volatile boolean closedByOwner;
    /** Delivery state (one call at a time). */
    private boolean terminalSeen;

    CancelOnEarlyEnd(RunEventSink sink, Runnable cancel) {
        this.sink = sink;
        this.cancel = cancel;
    }

    /** Subscribes through {@code subscribe} with this sink, and returns this as the subscription. */
    Subscription open(java.util.function.Function<RunEventSink, Subscription> subscribe) {
        subscription = subscribe.apply(this);
        return this;
    }

    @Override
    public void onEvent(RunEvent event) throws Exception {
        if (event.isTerminal()) {
            terminalSeen = true;
        }
        sink.onEvent(event);
    }

    @Override
    public void onCaughtUp() throws Exception {
        sink.onCaughtUp();
    }

    @Override
    public void onEnd(Throwable failure) {
        try {
            sink.onEnd(failure);
        } finally {
            if (!terminalSeen && (closedByOwner || failure != null)) {
                cancel.run();
            }
        }
    }

    @Override
    public void close() {
        closedByOwner = true;
        subscription.close();
    }
}
