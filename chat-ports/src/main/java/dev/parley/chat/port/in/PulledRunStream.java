package dev.parley.chat.port.in;

import dev.parley.chat.model.RunEvent;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The pull form of a push subscription ({@link RunStream#of}): the sink queues what the subscription
 * delivers, up to {@link #CAPACITY} events, and the reader takes them. When the reader falls that far
 * behind, the delivery waits for it (holding up this subscription only, never the run). The first read
 * waits for the subscription's first catch-up, so that a read that does not wait ({@link Duration#ZERO})
 * still sees every event the log held when the stream was opened.
 */
final class PulledRunStream implements RunStream, RunEventSink {
    /** Events delivered but not yet read, at most. */
    static final int CAPACITY = 256;
    private static final Duration LONGEST_WAIT = Duration.ofDays(365);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<RunEvent> queue = new ArrayDeque<>();
    private volatile Subscription subscription;
    // guarded by lock
    private boolean caughtUp;
    private boolean ended;
    private Throwable failure;
    private boolean finished;
    private boolean closed;

    private PulledRunStream() {
    }

    static RunStream open(Function<? super RunEventSink, ? extends Subscription> subscribe) {
        PulledRunStream stream = new PulledRunStream();
        Subscription opened = subscribe.apply(stream);
        if (opened == null) {
            throw new IllegalStateException("the subscription is null");
        }
        stream.subscription = opened;
        return stream;
    }

    @Override
    public void onEvent(RunEvent event) throws InterruptedException {
        lock.lock();
        try {
            while (queue.size() >= CAPACITY && !closed) {
                changed.await();
            }
            if (!closed) {
                queue.add(event);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onCaughtUp() {
        lock.lock();
        try {
            caughtUp = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void onEnd(Throwable failure) {
        lock.lock();
        try {
            ended = true;
            this.failure = failure;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<RunEvent> next(Duration timeout) throws InterruptedException {
        long wait = timeout.isNegative() ? 0 : timeout.compareTo(LONGEST_WAIT) > 0 ? LONGEST_WAIT.toNanos() : timeout.toNanos();
        long deadline = System.nanoTime() + wait;
        lock.lock();
        try {
            while (true) {
                if (finished) {
                    return Optional.empty();
                }
                if (closed) {
                    finished = true;
                    return Optional.empty();
                }
                RunEvent event = queue.poll();
                if (event != null) {
                    changed.signalAll();
                    finished = event.isTerminal();
                    return Optional.of(event);
                }
                if (ended) {
                    finished = true;
                    if (failure != null) {
                        throw rethrown(failure);
                    }
                    return Optional.empty();
                }
                if (!caughtUp) {
                    changed.await(); // the first catch-up is under way: what the log held is known once it is done
                    continue;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return Optional.empty();
                }
                changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    private static RuntimeException rethrown(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("the subscription failed: " + failure, failure);
    }

    @Override
    public boolean isFinished() {
        lock.lock();
        try {
            return finished || closed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            queue.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        subscription.close();
    }
}
