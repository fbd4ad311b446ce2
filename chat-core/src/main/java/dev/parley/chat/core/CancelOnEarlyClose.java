package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/** A subscription whose close before the terminal event cancels the run ({@code on_disconnect: cancel}). */
final class CancelOnEarlyClose implements RunSubscription {
    private final RunSubscription delegate;
    private final Runnable cancel;
    private final AtomicBoolean closed = new AtomicBoolean();

    CancelOnEarlyClose(RunSubscription delegate, Runnable cancel) {
        this.delegate = delegate;
        this.cancel = cancel;
    }

    @Override
    public Optional<RunEvent> next(Duration timeout) throws InterruptedException {
        return delegate.next(timeout);
    }

    @Override
    public boolean isFinished() {
        return delegate.isFinished();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        boolean early = !delegate.isFinished();
        delegate.close();
        if (early) {
            cancel.run();
        }
    }
}
