package dev.parley.adapter.http;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunStream;
import java.time.Duration;
import java.util.Optional;

/**
 * A subscription whose first event was read before the response was started, so that a stream
 * with nothing left to send (a finished run resumed at or after its terminal event) is answered
 * 204 instead of an empty {@code 200 text/event-stream}, which EventSource would reconnect to forever.
 */
final class ReadAhead implements RunStream {
    private final RunStream delegate;
    private RunEvent first;

    private ReadAhead(RunStream delegate, RunEvent first) {
        this.delegate = delegate;
        this.first = first;
    }

    /**
     * {@code subscription} with its first event read without waiting; empty, and the subscription
     * closed, when the run is over and nothing is left after the seq it was opened at.
     */
    static Optional<RunStream> open(RunStream subscription) throws InterruptedException {
        Optional<RunEvent> first;
        try {
            first = subscription.next(Duration.ZERO);
        } catch (RuntimeException | InterruptedException e) {
            subscription.close();
            throw e;
        }
        if (first.isEmpty() && subscription.isFinished()) {
            subscription.close();
            return Optional.empty();
        }
        return Optional.of(new ReadAhead(subscription, first.orElse(null)));
    }

    @Override
    public Optional<RunEvent> next(Duration timeout) throws InterruptedException {
        RunEvent event = first;
        if (event != null) {
            first = null;
            return Optional.of(event);
        }
        return delegate.next(timeout);
    }

    @Override
    public boolean isFinished() {
        return first == null && delegate.isFinished();
    }

    @Override
    public void close() {
        first = null;
        delegate.close();
    }
}
