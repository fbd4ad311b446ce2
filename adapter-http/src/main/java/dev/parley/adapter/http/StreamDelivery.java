package dev.parley.adapter.http;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.Subscription;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One run followed by one client, for every transport: the {@link RunEventSink} of the chat flow's
 * push subscription, which writes each event with the transport's {@link ChatFlow.Sink}, flushes once
 * per burst (after {@link #BATCH} events at most, and when the subscription has caught up), and writes
 * a heartbeat after each idle interval from the shared timer ({@link Heartbeats}). It holds no thread
 * while the run is idle: events are written on the bus's delivery threads, heartbeats on a thread of
 * their own, never two writes at once.
 *
 * <p>Nothing is written before the transport {@linkplain #attach attaches} (an HTTP request must have
 * gone async first): a delivery that comes sooner waits for it. The stream opens ({@link ChatFlow.Sink#open})
 * at its first event, or once the subscription has caught up with nothing to send; a subscription that
 * ends before (a finished run resumed after its last event) opens nothing, and its transport says so
 * ({@link End#opened()}: an HTTP stream answers 204). The end is reported once, after the last write.
 */
final class StreamDelivery implements RunEventSink {
    /** Most events written between two flushes. */
    static final int BATCH = 64;
    /** Longest a delivery waits for its transport to attach before it gives the stream up. */
    private static final long ATTACH_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int WAITING = 0;
    private static final int ATTACHED = 1;
    private static final int ABORTED = 2;

    /**
     * How a stream ended. {@code attached}: its transport was ready (else it answers the request itself);
     * {@code opened}: something was written; {@code failure}: why it ended early, or null (the terminal
     * event, a close, the server stopping).
     */
    record End(boolean attached, boolean opened, Throwable failure) {
        /** True when the client went away or the transport stopped the stream (nothing to tell the client). */
        boolean byClient() {
            return failure instanceof IOException || failure instanceof Stopped;
        }
    }

    /** Ends a subscription whose stream the transport stopped ({@link ChatFlow.Sink#isOpen()} false) or gave up. */
    static final class Stopped extends Exception {
        private static final long serialVersionUID = 1L;

        Stopped(String why) {
            super(why, null, false, false);
        }
    }

    private final ChatFlow.Sink sink;
    private final ParleyMetrics metrics;
    private final long heartbeatNanos;
    private final Set<StreamDelivery> open;
    private final Consumer<End> onEnd;
    private final ReentrantLock writing = new ReentrantLock();
    private final Condition attachedOrAborted = writing.newCondition();
    // guarded by writing
    private int gate = WAITING;
    private boolean opened;
    private int unflushed;
    // read without the lock
    private volatile boolean ended;
    private volatile long lastWrite;
    private volatile Subscription subscription;
    private volatile boolean closeAsked;
    private volatile ScheduledFuture<?> heartbeat;

    /** @param open the open streams, this one is taken out of at its end */
    StreamDelivery(ChatFlow.Sink sink, ParleyMetrics metrics, long heartbeatNanos, Set<StreamDelivery> open, Consumer<End> onEnd) {
        this.sink = sink;
        this.metrics = metrics;
        this.heartbeatNanos = heartbeatNanos;
        this.open = open;
        this.onEnd = onEnd;
    }

    /** The subscription this delivery is the sink of. */
    void subscribed(Subscription subscription) {
        this.subscription = subscription;
        if (closeAsked) {
            subscription.close();
        }
    }

    /** The transport is ready: writes may begin. */
    void attach() {
        setGate(ATTACHED);
    }

    /** The transport will never be ready (its request failed): nothing is written, and the subscription ends. */
    void abort() {
        setGate(ABORTED);
        close();
    }

    private void setGate(int state) {
        writing.lock();
        try {
            if (gate == WAITING) {
                gate = state;
                attachedOrAborted.signalAll();
            }
        } finally {
            writing.unlock();
        }
    }

    /**
     * Ends the stream (the client went away, the socket closed, the server stops): the subscription is
     * closed, which applies its disconnect policy, and the end is reported once the last write is done.
     */
    void close() {
        closeAsked = true;
        Subscription current = subscription;
        if (current != null) {
            current.close();
        }
    }

    @Override
    public void onEvent(RunEvent event) throws IOException, Stopped {
        writing.lock();
        try {
            ready();
            if (!opened) {
                open();
            }
            sink.event(event);
            lastWrite = System.nanoTime();
            if (++unflushed >= BATCH || event.isTerminal()) {
                flush();
            }
            stopIfClosed();
        } finally {
            writing.unlock();
        }
    }

    @Override
    public void onCaughtUp() throws IOException, Stopped {
        writing.lock();
        try {
            ready();
            if (!opened) {
                open();
                flush(); // nothing to send yet: the client sees the stream open (its headers)
            } else if (unflushed > 0) {
                flush();
            }
            stopIfClosed();
        } finally {
            writing.unlock();
        }
    }

    @Override
    public void onEnd(Throwable failure) {
        boolean attached;
        boolean wasOpen;
        writing.lock();
        try {
            try {
                ready();
            } catch (Stopped aborted) {
                // nothing to write, or nowhere to write it
            }
            ended = true;
            ScheduledFuture<?> pending = heartbeat;
            if (pending != null) {
                pending.cancel(false);
            }
            attached = gate == ATTACHED;
            wasOpen = opened;
            if (wasOpen && unflushed > 0 && !(failure instanceof IOException)) {
                try {
                    flush();
                } catch (IOException clientGone) {
                    // the end is reported all the same
                }
            }
        } finally {
            writing.unlock();
        }
        open.remove(this);
        if (wasOpen && metrics != null) {
            metrics.streamClosed(sink.webSocket());
        }
        onEnd.accept(new End(attached, wasOpen, failure));
    }

    /** Waits (lock held) until the transport attached; {@link Stopped} when it never will. */
    private void ready() throws Stopped {
        long deadline = System.nanoTime() + ATTACH_TIMEOUT_NANOS;
        boolean interrupted = false;
        while (gate == WAITING) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                gate = ABORTED;
                break;
            }
            try {
                attachedOrAborted.awaitNanos(remaining);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (gate != ATTACHED) {
            throw new Stopped("the stream's transport never became ready");
        }
    }

    private void open() throws IOException {
        sink.open();
        opened = true;
        lastWrite = System.nanoTime();
        if (metrics != null) {
            metrics.streamOpened(sink.webSocket());
        }
        scheduleHeartbeat(heartbeatNanos);
    }

    private void flush() throws IOException {
        unflushed = 0;
        sink.flush();
    }

    private void stopIfClosed() throws Stopped, IOException {
        if (!sink.isOpen()) {
            if (unflushed > 0) {
                flush();
            }
            throw new Stopped("the transport ended the stream");
        }
    }

    // ---- heartbeats ----

    private void scheduleHeartbeat(long delayNanos) {
        if (!ended) {
            heartbeat = Heartbeats.schedule(this::heartbeatDue, delayNanos);
            if (ended) {
                heartbeat.cancel(false);
            }
        }
    }

    /** On the timer: a heartbeat goes out unless something was written in the last interval. */
    private void heartbeatDue() {
        if (ended) {
            return;
        }
        long idle = System.nanoTime() - lastWrite;
        if (idle < heartbeatNanos) {
            scheduleHeartbeat(heartbeatNanos - idle);
            return;
        }
        Heartbeats.write(this::writeHeartbeat);
    }

    private void writeHeartbeat() {
        if (!writing.tryLock()) {
            scheduleHeartbeat(heartbeatNanos); // a delivery is writing: the stream is not idle
            return;
        }
        try {
            if (ended) {
                return;
            }
            sink.heartbeat();
            flush();
            lastWrite = System.nanoTime();
        } catch (IOException | RuntimeException clientGone) {
            close(); // the subscription ends, applying its disconnect policy
            return;
        } finally {
            writing.unlock();
        }
        scheduleHeartbeat(heartbeatNanos);
    }
}
