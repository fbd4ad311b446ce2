package dev.parley.adapter.inmemory;

import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The calls of a {@link ScriptedChatModel}: the requests it received, and the waits of its scripts (the
 * delay before each delta, a block until released, a hang until cancelled) and of a test (for calls,
 * for a blocked call), all on one lock whose condition any change signals (a cancel too, through
 * {@link #wakeAll}).
 */
final class ScriptedCalls {
    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();
    private final List<ModelRequest> requests = new ArrayList<>();
    private int blocked;
    private int releases;

    /** Records a call's request; the lock is held. */
    void received(ModelRequest request) {
        requests.add(request);
    }

    List<ModelRequest> requests() {
        lock.lock();
        try {
            return List.copyOf(requests);
        } finally {
            lock.unlock();
        }
    }

    ModelRequest lastRequest() {
        lock.lock();
        try {
            if (requests.isEmpty()) {
                throw new IllegalStateException("the model was not called");
            }
            return requests.get(requests.size() - 1);
        } finally {
            lock.unlock();
        }
    }

    boolean awaitCalls(int count, Duration timeout) throws InterruptedException {
        return awaitUntil(() -> requests.size() >= count, timeout);
    }

    /** Waits {@code duration} (forever when null) unless cancelled first, which throws. */
    void pause(Duration duration, Cancellation cancellation) {
        if (duration != null && duration.isZero()) {
            return;
        }
        long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
        lock.lock();
        try {
            while (!cancellation.isCancelled()) {
                long remaining = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
                if (remaining <= 0) {
                    return;
                }
                if (remaining == Long.MAX_VALUE) {
                    changed.await();
                } else {
                    changed.awaitNanos(remaining);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RunCancelledException();
        } finally {
            lock.unlock();
        }
        throw new RunCancelledException();
    }

    void awaitRelease(Cancellation cancellation) {
        lock.lock();
        try {
            blocked++;
            changed.signalAll();
            try {
                while (releases == 0) {
                    if (cancellation.isCancelled()) {
                        throw new RunCancelledException();
                    }
                    changed.await();
                }
                releases--;
            } finally {
                blocked--;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RunCancelledException();
        } finally {
            lock.unlock();
        }
    }

    void wakeAll() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Lets one call blocked at a {@link Script#thenBlock()} step (or the next one to get there) go on. */
    void release() {
        lock.lock();
        try {
            releases++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until a call is blocked at a block step; false on timeout. */
    boolean awaitBlocked(Duration timeout) throws InterruptedException {
        return awaitUntil(() -> blocked > 0, timeout);
    }

    private boolean awaitUntil(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                changed.awaitNanos(remaining);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
