package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.Subscription;
import dev.parley.chat.port.out.RunEventStore;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One push subscription of {@link StoreBackedRunEventBus}: a cursor into its run's log and a sink. It
 * holds no events and no thread of its own. Whatever may have changed its run's log (a publish, an
 * eviction, a hint from the store, a poll of a run published elsewhere, a close) {@linkplain #wake wakes}
 * it, and a delivery task on the bus's executor then hands the sink every event past the cursor, reading
 * the log in memory or, when the log does not hold them (a run published before a restart, evicted, or
 * published by another server), the store.
 *
 * <p>Deliveries never overlap: {@link #wake} counts wake-ups and starts a delivery only when none is
 * under way; a delivery loops until it has seen every wake-up counted before it ends. Its state is
 * touched by the delivering task only, and one delivery happens-before the next through the counter.
 *
 * <p>A delivery that has seen every wake-up waits on its thread for the next one (the bus's delivery
 * linger, 200 ms by default, on virtual threads) before it ends; the counter then holds
 * {@link #LINGERING}, and a wake-up unparks it. A streaming run wakes its feeds every few tens of
 * milliseconds, and one thread then serves a stream's events instead of a new thread per event. The
 * wait is an untimed park: the bus's {@link Lingerers} sweep unparks it once the linger is over (a
 * timed park would schedule and cancel a timer per event). An idle stream holds no thread once that
 * wait is over.
 */
final class RunFeed implements Subscription, Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RunFeed.class);
    /** Most events taken from the log (under its lock) or read from the store at once. */
    static final int PAGE = 256;
    private static final VarHandle WAKE_UPS;
    private static final VarHandle DELIVERER;
    private static final VarHandle QUEUED;
    /** The counter's value while a delivery waits for the next wake-up; each wake-up adds one to it. */
    static final int LINGERING = 1 << 30;

    static {
        try {
            WAKE_UPS = MethodHandles.lookup().findVarHandle(RunFeed.class, "wakeUps", int.class);
            DELIVERER = MethodHandles.lookup().findVarHandle(RunFeed.class, "deliverer", Thread.class);
            QUEUED = MethodHandles.lookup().findVarHandle(RunFeed.class, "queued", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final StoreBackedRunEventBus bus;
    private final RunEventStore store;
    private final RunId runId;
    private final RunEventSink sink;
    /** Wake-ups not yet seen by a delivery; a delivery runs while it is above zero. */
    @SuppressWarnings("unused") // through WAKE_UPS
    private volatile int wakeUps;
    private volatile boolean closed;
    /**
     * The thread of the delivery under way (the one a wake-up unparks while it lingers); null once it ended, so
     * that an idle stream does not keep its last delivery's thread.
     */
    private volatile Thread deliverer;
    /** On the bus's {@link Lingerers} queue. */
    @SuppressWarnings("unused") // through QUEUED
    private volatile boolean queued;
    /** When the current linger is over ({@link System#nanoTime()}); set before the counter goes to {@link #LINGERING}. */
    private volatile long lingerUntil;

    // the delivering task's state
    private long cursor;
    private RunLog log;
    private boolean caughtUpOnce;
    private boolean tailChecked;
    private boolean ended;
    private Future<?> poll;

    RunFeed(StoreBackedRunEventBus bus, RunEventStore store, RunId runId, long afterSeq, RunEventSink sink) {
        this.bus = bus;
        this.store = store;
        this.runId = runId;
        this.cursor = afterSeq;
        this.sink = sink;
    }

    /** Something may have changed: makes sure a delivery looks, starting one when none is under way. */
    void wake() {
        int before = (int) WAKE_UPS.getAndAdd(this, 1);
        if (before == 0) {
            bus.deliver(this);
        } else if (before >= LINGERING) {
            LockSupport.unpark(deliverer);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            wake();
        }
    }

    /** One delivery: looks until every wake-up counted so far was seen, then lingers for the next one. */
    @Override
    public void run() {
        deliverer = Thread.currentThread();
        int seen = 1;
        while (true) {
            try {
                deliver();
            } catch (RuntimeException | Error failure) {
                end(failure);
            }
            boolean mayLinger = mayLinger();
            if (mayLinger) {
                lingerUntil = System.nanoTime() + bus.deliveryLingerNanos();
            }
            if (mayLinger && WAKE_UPS.compareAndSet(this, seen, LINGERING)) {
                seen = linger();
            } else {
                // wake-ups came meanwhile (the counter only grows while a delivery runs), or this delivery ends
                seen = (int) WAKE_UPS.getAndAdd(this, -seen) - seen;
            }
            if (seen == 0) {
                // (unless the next delivery has started meanwhile and put its own thread here)
                DELIVERER.compareAndSet(this, Thread.currentThread(), null);
                return;
            }
        }
    }

    /** Whether a delivery is under way or lingering (for tests). */
    boolean deliveryUnderWay() {
        return (int) WAKE_UPS.getVolatile(this) != 0;
    }

    /** Whether the feed still refers to a delivery's thread (for tests). */
    boolean holdsAThread() {
        return deliverer != null;
    }

    /** Not once the subscription or the bus is over (nor on a caller's thread, which only happens then). */
    private boolean mayLinger() {
        return !ended && !closed && !bus.isClosed() && bus.deliveryLingerNanos() > 0;
    }

    /**
     * Waits, the counter at {@link #LINGERING}, for a wake-up: answers how many came (to deliver them), or
     * 0 once the wait is over with none (the counter back at 0: the next wake-up starts a delivery). Parks
     * untimed, on the bus's {@link Lingerers} queue, whose sweep unparks it once the linger is over.
     */
    private int linger() {
        if (!queued && QUEUED.compareAndSet(this, false, true)) {
            bus.lingerers.add(this);
        }
        while (true) {
            if ((int) WAKE_UPS.getVolatile(this) != LINGERING) {
                return (int) WAKE_UPS.getAndAdd(this, -LINGERING) - LINGERING;
            }
            if (lingerOver(System.nanoTime()) || Thread.currentThread().isInterrupted() || bus.isClosed()) {
                if (WAKE_UPS.compareAndSet(this, LINGERING, 0)) {
                    return 0;
                }
                continue; // a wake-up came meanwhile
            }
            LockSupport.park(this);
        }
    }

    /** True while a delivery waits for a wake-up (for the {@link Lingerers} sweep). */
    boolean lingering() {
        return (int) WAKE_UPS.getVolatile(this) == LINGERING;
    }

    boolean lingerOver(long now) {
        return now - lingerUntil >= 0;
    }

    void unparkDeliverer() {
        LockSupport.unpark(deliverer);
    }

    /**
     * The sweep took the feed off the queue, having seen it not lingering; when it lingers by now, it goes
     * back (unless its delivery has put it back itself): a feed that lingers is always on the queue.
     */
    void dequeued() {
        queued = false;
        if (lingering() && QUEUED.compareAndSet(this, false, true)) {
            bus.lingerers.add(this);
        }
    }

    /** Hands the sink everything past the cursor, then tells it so; ends the subscription when it is over. */
    private void deliver() {
        if (ended) {
            return;
        }
        boolean delivered = false;
        while (true) {
            if (closed || bus.isClosed()) {
                end(null);
                return;
            }
            List<RunEvent> page = nextPage();
            if (ended) {
                return;
            }
            if (page.isEmpty()) {
                break;
            }
            for (RunEvent event : page) {
                if (closed) {
                    end(null);
                    return;
                }
                try {
                    sink.onEvent(event);
                } catch (Exception | Error failure) {
                    end(failure);
                    return;
                }
                cursor = event.seq();
                if (event.isTerminal()) {
                    end(null);
                    return;
                }
            }
            delivered = true;
        }
        if (delivered || !caughtUpOnce) {
            caughtUpOnce = true;
            try {
                sink.onCaughtUp();
            } catch (Exception | Error failure) {
                end(failure);
            }
        }
    }

    /**
     * The events after the cursor that are there now (empty when there is none yet), from the run's log
     * in memory or else from the store; ends the subscription when the run ended at or before the cursor.
     */
    private List<RunEvent> nextPage() {
        while (true) {
            RunLog current = log;
            if (current == null) {
                current = bus.logFor(runId);
                current.feeds.add(this); // before looking: a publish from now on wakes this feed
                log = current;
            }
            long want = cursor + 1;
            boolean over;
            current.lock.lock();
            try {
                if (current.evicted) {
                    // the run goes on, or will, in a newer log or only in the store
                    current.feeds.remove(this);
                    log = null;
                    continue;
                }
                boolean local = current.initialized && want >= current.firstSeq;
                if (local && want <= current.lastSeq) {
                    int from = (int) (want - current.firstSeq);
                    int to = (int) Math.min(current.lastSeq - current.firstSeq + 1, from + (long) PAGE);
                    return new ArrayList<>(current.events.subList(from, to));
                }
                if (local && !current.terminal) {
                    return List.of(); // nothing new yet: the next publish wakes this feed
                }
                over = local; // the run ended at or before the cursor; else it is read from the store
            } finally {
                current.lock.unlock();
            }
            if (over) {
                end(null);
                return List.of();
            }
            List<RunEvent> stored = store.read(runId, cursor, PAGE);
            if (!stored.isEmpty()) {
                return stored;
            }
            if (endedBeforeCursor()) {
                end(null);
                return List.of();
            }
            schedulePoll();
            return List.of();
        }
    }

    /** For a subscription opened at or after the run's last stored seq: whether that last event was terminal. */
    private boolean endedBeforeCursor() {
        if (tailChecked || cursor == 0) {
            return false;
        }
        tailChecked = true;
        long last = store.lastSeq(runId);
        if (last == 0 || last > cursor) {
            return false;
        }
        List<RunEvent> tail = store.read(runId, last - 1, 1);
        return !tail.isEmpty() && tail.get(0).isTerminal();
    }

    /** The run is read from the store and has nothing new: look again after the bus's poll interval. */
    private void schedulePoll() {
        if (poll == null || poll.isDone()) {
            poll = bus.afterPollInterval(this::wake);
        }
    }

    private void end(Throwable failure) {
        if (ended) {
            return;
        }
        ended = true;
        closed = true;
        RunLog current = log;
        if (current != null) {
            current.feeds.remove(this);
            log = null;
        }
        if (poll != null) {
            poll.cancel(false);
            poll = null;
        }
        try {
            sink.onEnd(failure);
        } catch (RuntimeException | Error e) {
            LOG.warn("run {}: a subscriber failed at the end of its subscription: {}", runId, e.toString());
        }
    }
}
