package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/** A subscription whose close before the terminal event cancels the run ({@code on_disconnect: cancel}). */
final class CancelOnEarlyClose implements RunStream {
    private final RunStream delegate;
    private final Runnable cancel;
    private final AtomicBoolean closed = new AtomicBoolean();

    CancelOnEarlyClose(RunStream delegate, Runnable cancel) {
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
