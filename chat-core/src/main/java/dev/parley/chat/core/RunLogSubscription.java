package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;

/**
 * A reader of {@link StoreBackedRunEventBus} with its own cursor; waits on its run's log, which
 * doubles as the wake-up point while polling the store. Used by one reader thread at a time.
 */
final class RunLogSubscription implements RunSubscription {
    private static final int READ_PAGE = 256;

    private final StoreBackedRunEventBus bus;
    private final RunEventStore store;
    private final long pollIntervalNanos;
    private final RunId runId;
    private final ArrayDeque<RunEvent> fromStore = new ArrayDeque<>();
    private long cursor;
    private boolean finished;
    private boolean tailChecked;
    private volatile boolean closedByReader;
    private volatile RunLog log;

    RunLogSubscription(StoreBackedRunEventBus bus, RunEventStore store, long pollIntervalNanos, RunId runId, long afterSeq) {
        this.bus = bus;
        this.store = store;
        this.pollIntervalNanos = pollIntervalNanos;
        this.runId = runId;
        this.cursor = afterSeq;
    }

    @Override
    public Optional<RunEvent> next(Duration timeout) throws InterruptedException {
        if (finished) {
            return Optional.empty();
        }
        long deadline = deadline(timeout);
        while (true) {
            if (closedByReader || bus.isClosed()) {
                finished = true;
                return Optional.empty();
            }
            RunEvent buffered = fromStore.poll();
            if (buffered != null) {
                return deliver(buffered);
            }
            RunLog current = log;
            if (current == null) {
                current = bus.logFor(runId);
                log = current;
            }
            long want = cursor + 1;
            RunEvent found = null;
            boolean readStore = false;
            long seen;
            current.lock.lock();
            try {
                seen = current.version;
                if (closedByReader || bus.isClosed()) {
                    continue;
                }
                boolean local = current.initialized && want >= current.firstSeq;
                if (local && want <= current.lastSeq) {
                    found = current.get(want);
                } else if (local && current.terminal) {
                    finished = true;
                    return Optional.empty();
                } else if (current.evicted) {
                    log = null; // the run went on, or will, in a newer log or only in the store
                    continue;
                } else if (local) {
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        return Optional.empty();
                    }
                    current.changed.awaitNanos(remaining);
                    continue;
                } else {
                    readStore = true;
                }
            } finally {
                current.lock.unlock();
            }
            if (found != null) {
                return deliver(found);
            }
            if (readStore) {
                fromStore.addAll(store.read(runId, cursor, READ_PAGE));
                if (!fromStore.isEmpty()) {
                    continue;
                }
                if (endedBeforeCursor()) {
                    finished = true;
                    return Optional.empty();
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return Optional.empty();
                }
                awaitPoll(current, seen, Math.min(remaining, pollIntervalNanos));
            }
        }
    }

    /** For a reader opened at or after the run's last seq: whether that last event was terminal. */
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

    /** Waits for the next poll, or less when the run starts publishing here or the reader is closed. */
    private void awaitPoll(RunLog current, long seen, long nanos) throws InterruptedException {
        current.lock.lock();
        try {
            if (current.version == seen && !current.evicted && !closedByReader && !bus.isClosed()) {
                current.changed.awaitNanos(nanos);
            }
        } finally {
            current.lock.unlock();
        }
    }

    private Optional<RunEvent> deliver(RunEvent event) {
        cursor = event.seq();
        if (event.isTerminal()) {
            finished = true;
            fromStore.clear();
        }
        return Optional.of(event);
    }

    @Override
    public boolean isFinished() {
        return finished || closedByReader;
    }

    @Override
    public void close() {
        closedByReader = true;
        RunLog current = log;
        if (current != null) {
            current.signalReaders();
        }
    }

    private static long deadline(Duration timeout) {
        long now = System.nanoTime();
        if (timeout.isNegative() || timeout.isZero()) {
            return now;
        }
        long nanos = timeout.compareTo(Duration.ofDays(365)) > 0 ? Duration.ofDays(365).toNanos() : timeout.toNanos();
        return now + nanos;
    }
}
