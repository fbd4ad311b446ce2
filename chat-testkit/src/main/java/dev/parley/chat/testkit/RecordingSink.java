package dev.parley.chat.testkit;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunEventSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link RunEventSink} that records what it is handed and notes every breach of the sink's
 * guarantees as it happens: two calls at once, a seq that is not the next one, a call after the end,
 * two ends. {@link #violations()} lists them.
 */
class RecordingSink implements RunEventSink {
    private final List<RunEvent> events = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final AtomicInteger inCall = new AtomicInteger();
    private final CompletableFuture<Optional<Throwable>> ended = new CompletableFuture<>();
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private long lastSeq;

    /** A sink for a subscription opened after {@code afterSeq}. */
    RecordingSink(long afterSeq) {
        this.lastSeq = afterSeq;
    }

    @Override
    public void onEvent(RunEvent event) throws Exception {
        enter("onEvent");
        try {
            if (event.seq() != lastSeq + 1) {
                violation("seq " + event.seq() + " after " + lastSeq);
            }
            lastSeq = event.seq();
            synchronized (this) {
                events.add(event);
            }
            received(event);
        } finally {
            leave();
        }
    }

    /** Called for each event once it is recorded (nothing by default): a test's own sink may throw or wait here. */
    void received(RunEvent event) throws Exception {
    }

    @Override
    public void onCaughtUp() {
        enter("onCaughtUp");
        try {
            caughtUp.countDown();
        } finally {
            leave();
        }
    }

    @Override
    public void onEnd(Throwable failure) {
        enter("onEnd");
        try {
            if (!ended.complete(Optional.ofNullable(failure))) {
                violation("ended twice");
            }
        } finally {
            leave();
        }
    }

    private void enter(String call) {
        if (inCall.incrementAndGet() != 1) {
            violation(call + " while another call was under way");
        }
        if (ended.isDone()) {
            violation(call + " after the end");
        }
    }

    private void leave() {
        inCall.decrementAndGet();
    }

    private synchronized void violation(String what) {
        violations.add(what);
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized List<RunEvent> events() {
        return List.copyOf(events);
    }

    boolean isEnded() {
        return ended.isDone();
    }

    /** Waits for the end; its failure, or empty for an end without one. Fails after {@code patience}. */
    Optional<Throwable> awaitEnd(Duration patience) throws Exception {
        try {
            return ended.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the subscription did not end; delivered so far: " + events(), e);
        }
    }

    /** Waits for the first {@link #onCaughtUp}; fails after {@code patience}. */
    void awaitCaughtUp(Duration patience) throws InterruptedException {
        if (!caughtUp.await(patience.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("never caught up; delivered so far: " + events());
        }
    }

    /** Waits until {@code count} events were delivered; fails after {@code patience}. */
    void awaitEvents(int count, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (events().size() < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected " + count + " events; delivered so far: " + events());
            }
            Thread.sleep(5);
        }
    }
}
