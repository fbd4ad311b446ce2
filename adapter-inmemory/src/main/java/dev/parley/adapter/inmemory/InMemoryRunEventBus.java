package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The run event bus of one server. Each run known here has an in-memory log of its recent events;
 * publishing appends to it and wakes the run's readers, and each subscription reads the log through
 * its own cursor, so a slow reader never holds up a publisher. Events are persisted to the
 * {@link RunEventStore} in batches: events are buffered until the run's terminal event arrives, the
 * buffer holds {@code batchSize} events, or the background flusher runs (every {@code flushInterval});
 * a terminal event is stored, with everything buffered before it, before {@link #publish} returns. Readers of runs this server does not hold (run
 * before a restart, evicted, or executing on another server sharing the store) page from the store
 * and poll it until the terminal event; a hint from the store's {@link RunSignals} that the run's
 * events were stored wakes them before the next poll. Finished runs' logs are evicted after a grace
 * period.
 */
final class InMemoryRunEventBus implements InMemoryAdapters.EventBus {
    private static final System.Logger LOG = System.getLogger(InMemoryRunEventBus.class.getName());
    private static final int READ_PAGE = 256;

    private final RunEventStore store;
    private final int batchSize;
    private final long evictFinishedAfterNanos;
    private final long evictIdleAfterNanos;
    private final long pollIntervalNanos;
    private final ConcurrentHashMap<RunId, RunLog> logs = new ConcurrentHashMap<>();
    private final Set<RunLog> dirty = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService flusher;
    private final RunSignals.Registration wakeUps;
    /** How often the flusher looks for logs to evict: a tenth of the shorter grace, between one tick and 1 s. */
    private final long evictEveryNanos;
    /** When the flusher last looked (flusher thread only). */
    private long lastEviction = System.nanoTime();
    private volatile boolean closed;

    InMemoryRunEventBus(RunEventStore store, Duration flushInterval, int batchSize, Duration evictFinishedAfter,
                        Duration evictIdleAfter, Duration pollInterval, RunSignals signals) {
        this.store = Require.notNull(store, "store");
        this.batchSize = Require.inRange(batchSize, 1, 100_000, "batchSize");
        this.evictFinishedAfterNanos = evictFinishedAfter.toNanos();
        this.evictIdleAfterNanos = evictIdleAfter.toNanos();
        this.pollIntervalNanos = Math.max(1, pollInterval.toNanos());
        long tick = Math.max(1, flushInterval.toMillis());
        this.evictEveryNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(tick),
                Math.min(TimeUnit.SECONDS.toNanos(1), Math.min(evictFinishedAfterNanos, evictIdleAfterNanos) / 10));
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parley-run-event-flusher");
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
        this.wakeUps = signals.onEventsStored(this::wakeReaders);
    }

    /** Wakes the readers waiting on the run's log, so that readers polling the store read it now. */
    private void wakeReaders(RunId runId) {
        RunLog log = logs.get(runId);
        if (log == null) {
            return;
        }
        log.lock.lock();
        try {
            log.version++;
            log.changed.signalAll();
        } finally {
            log.lock.unlock();
        }
    }

    /** One run's recent events, its unpersisted tail and its readers' wake-up signal. */
    private static final class RunLog {
        final RunId runId;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        /** Serializes appends of this run to the store, keeping them in seq order. */
        final ReentrantLock flushLock = new ReentrantLock();
        final List<RunEvent> events = new ArrayList<>();
        List<RunEvent> pending = new ArrayList<>();
        boolean initialized;
        boolean evicted;
        boolean terminal;
        /** The last write of this run's events failed: full batches wait for the background flusher. */
        boolean storeFailing;
        long firstSeq;
        long lastSeq;
        /** Moves on with every change readers may wait for. */
        long version;
        long lastActivity = System.nanoTime();
        long terminalAt;

        RunLog(RunId runId) {
            this.runId = runId;
        }

        RunEvent get(long seq) {
            return events.get((int) (seq - firstSeq));
        }
    }

    @Override
    public void publish(RunEvent event) {
        Require.notNull(event, "event");
        Require.that(event.isReplayable(), "heartbeats are not part of a run's log");
        if (closed) {
            throw new IllegalStateException("the event bus is closed");
        }
        RunLog log;
        boolean flushNow;
        while (true) {
            log = logFor(event.runId());
            log.lock.lock();
            try {
                if (log.evicted) {
                    continue;
                }
                if (!log.initialized) {
                    if (event instanceof RunEvent.RunStarted && event.seq() == 1) {
                        // a run is started once, and run_started is its first event: its log is empty
                        initializeEmpty(log);
                    } else {
                        initialize(log);
                    }
                }
                if (log.terminal) {
                    throw new IllegalArgumentException("run " + event.runId() + " already ended at seq " + log.lastSeq);
                }
                if (event.seq() != log.lastSeq + 1) {
                    throw new IllegalArgumentException("run " + event.runId() + " expects seq " + (log.lastSeq + 1)
                            + ", got " + event.seq());
                }
                log.events.add(event);
                log.lastSeq = event.seq();
                log.lastActivity = System.nanoTime();
                if (event.isTerminal()) {
                    log.terminal = true;
                    log.terminalAt = log.lastActivity;
                }
                log.pending.add(event);
                log.version++;
                // only the terminal event waits for the store; the others go with it, with a full batch or with
                // the flusher's next tick. While the store fails, a full batch is left to the background flusher,
                // so that the run (and its live readers) do not wait out a store timeout at every token
                flushNow = event.isTerminal() || (log.pending.size() >= batchSize && !log.storeFailing);
                log.changed.signalAll();
            } finally {
                log.lock.unlock();
            }
            break;
        }
        if (flushNow) {
            flush(log, event.isTerminal());
        } else {
            dirty.add(log);
        }
    }

    /**
     * Stores the terminal event, with the run's buffered events, in the transaction of {@code work}
     * when this bus persists to {@code chatStore}'s event log; readers get it once that committed.
     */
    @Override
    public <T> T publishWith(RunEvent event, ChatStore chatStore, Supplier<T> work) {
        Require.notNull(event, "event");
        Require.notNull(chatStore, "chatStore");
        Require.notNull(work, "work");
        Require.that(event.isTerminal(), "only a terminal event is published with a transaction");
        if (chatStore.events() != store) {
            return InMemoryAdapters.EventBus.super.publishWith(event, chatStore, work);
        }
        if (closed) {
            throw new IllegalStateException("the event bus is closed");
        }
        RunLog log;
        while (true) {
            log = logFor(event.runId());
            log.lock.lock();
            try {
                if (log.evicted) {
                    continue;
                }
                if (!log.initialized) {
                    initialize(log);
                }
                if (log.terminal) {
                    throw new IllegalArgumentException("run " + event.runId() + " already ended at seq " + log.lastSeq);
                }
                if (event.seq() != log.lastSeq + 1) {
                    throw new IllegalArgumentException("run " + event.runId() + " expects seq " + (log.lastSeq + 1)
                            + ", got " + event.seq());
                }
            } finally {
                log.lock.unlock();
            }
            break;
        }
        // the buffered events leave with the terminal one; taken before the transaction, so that a write of
        // this run under way on the flusher ends first, and nothing here waits for a lock while it holds the store's
        List<RunEvent> buffered = takePending(log);
        T result;
        try {
            // after a write of this run that seemed to fail, part of what is buffered may be stored: it is
            // left out here, as a store call that fails inside the transaction would fail the transaction
            List<RunEvent> batch = new ArrayList<>(isStoreFailing(log) ? notYetStored(event.runId(), buffered) : buffered);
            batch.add(event);
            result = chatStore.inTransaction(() -> {
                T value = work.get();
                store.append(batch);
                return value;
            });
        } catch (RuntimeException | Error failure) {
            log.lock.lock();
            try {
                log.pending.addAll(0, buffered);
                if (failure instanceof StorageUnavailableException) {
                    // whether the transaction committed is not known when the store failed to answer
                    log.storeFailing = true;
                }
            } finally {
                log.lock.unlock();
            }
            if (!buffered.isEmpty()) {
                dirty.add(log);
            }
            throw failure;
        }
        log.lock.lock();
        try {
            log.events.add(event);
            log.lastSeq = event.seq();
            log.lastActivity = System.nanoTime();
            log.terminal = true;
            log.terminalAt = log.lastActivity;
            log.version++;
            log.changed.signalAll();
        } finally {
            log.lock.unlock();
        }
        return result;
    }

    /** Takes the run's buffered events out of its log, once no write of them is under way. */
    private List<RunEvent> takePending(RunLog log) {
        log.flushLock.lock();
        try {
            dirty.remove(log);
            log.lock.lock();
            try {
                List<RunEvent> taken = log.pending;
                log.pending = new ArrayList<>();
                return taken;
            } finally {
                log.lock.unlock();
            }
        } finally {
            log.flushLock.unlock();
        }
    }

    /** The events of {@code batch} past the run's last stored seq (an earlier append that seemed to fail stored the rest). */
    private List<RunEvent> notYetStored(RunId runId, List<RunEvent> batch) {
        long stored = store.lastSeq(runId);
        List<RunEvent> rest = new ArrayList<>();
        for (RunEvent e : batch) {
            if (e.seq() > stored) {
                rest.add(e);
            }
        }
        return rest;
    }

    private RunLog logFor(RunId runId) {
        RunLog log = logs.get(runId);
        return log != null ? log : logs.computeIfAbsent(runId, RunLog::new);
    }

    /** Starts the log of a run that has published nothing yet, without reading the store. Lock held. */
    private static void initializeEmpty(RunLog log) {
        log.firstSeq = 1;
        log.lastSeq = 0;
        log.terminal = false;
        log.terminalAt = System.nanoTime();
        log.initialized = true;
    }

    /** Continues the log where the store ends (a run published before a restart or an eviction). Lock held. */
    private void initialize(RunLog log) {
        long stored = store.lastSeq(log.runId);
        boolean ended = false;
        if (stored > 0) {
            List<RunEvent> tail = store.read(log.runId, stored - 1, 1);
            ended = !tail.isEmpty() && tail.get(0).isTerminal();
        }
        log.firstSeq = stored + 1;
        log.lastSeq = stored;
        log.terminal = ended;
        log.terminalAt = System.nanoTime();
        log.initialized = true;
    }

    /**
     * Persists the run's pending events. Failures keep them pending for the flusher to retry;
     * {@code rethrow} passes the failure on to the caller (a terminal publish must be durable).
     */
    private void flush(RunLog log, boolean rethrow) {
        log.flushLock.lock();
        try {
            dirty.remove(log);
            List<RunEvent> batch;
            log.lock.lock();
            try {
                if (log.pending.isEmpty()) {
                    return;
                }
                batch = log.pending;
                log.pending = new ArrayList<>();
            } finally {
                log.lock.unlock();
            }
            try {
                append(log.runId, batch);
                markStoreFailing(log, false);
            } catch (IllegalArgumentException gap) {
                // the store's log of this run does not end where ours began: retrying cannot help
                LOG.log(System.Logger.Level.ERROR, "dropped " + batch.size() + " events of run " + log.runId
                        + " the store refused: " + gap.getMessage());
                if (rethrow) {
                    throw gap;
                }
            } catch (RuntimeException failure) {
                log.lock.lock();
                try {
                    log.pending.addAll(0, batch);
                    log.storeFailing = true;
                } finally {
                    log.lock.unlock();
                }
                dirty.add(log);
                if (rethrow) {
                    throw failure;
                }
                LOG.log(System.Logger.Level.WARNING, "could not store events of run " + log.runId + ", will retry: "
                        + failure.getMessage());
            }
        } finally {
            log.flushLock.unlock();
        }
    }

    private static boolean isStoreFailing(RunLog log) {
        log.lock.lock();
        try {
            return log.storeFailing;
        } finally {
            log.lock.unlock();
        }
    }

    private static void markStoreFailing(RunLog log, boolean failing) {
        log.lock.lock();
        try {
            log.storeFailing = failing;
        } finally {
            log.lock.unlock();
        }
    }

    /**
     * Appends a batch; when part of it is already stored (an earlier append that seemed to fail), stores
     * the rest. When the stored log already ended (another server ended the run after its owner's lease
     * expired), nothing more of it is written.
     */
    private void append(RunId runId, List<RunEvent> batch) {
        try {
            store.append(batch);
        } catch (ConflictException conflict) {
            if (conflict.reason() == ConflictException.Reason.RUN_ENDED) {
                droppedAfterEnd(runId, batch.size());
                return;
            }
            List<RunEvent> rest = notYetStored(runId, batch);
            if (rest.isEmpty()) {
                return;
            }
            try {
                store.append(rest);
            } catch (ConflictException again) {
                if (again.reason() != ConflictException.Reason.RUN_ENDED) {
                    throw again;
                }
                droppedAfterEnd(runId, rest.size());
            }
        }
    }

    private static void droppedAfterEnd(RunId runId, int count) {
        LOG.log(System.Logger.Level.WARNING, "dropped " + count + " events of run " + runId
                + ": its stored log already ended (another server ended the run)");
    }

    @Override
    public void flush() {
        for (RunLog log : List.copyOf(dirty)) {
            flush(log, false);
        }
    }

    /** Background work: persist buffered events, then evict logs that are done with. */
    private void tick() {
        try {
            flush();
            // every log is looked at, so not at every tick: finished runs are kept for a minute by default anyway
            long now = System.nanoTime();
            if (now - lastEviction >= evictEveryNanos) {
                lastEviction = now;
                evictExpired(now);
            }
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "run event flusher failed: " + e);
        }
    }

    /** Drops logs that are done with as of {@code now} (a {@link System#nanoTime()} value). */
    void evictExpired(long now) {
        for (RunLog log : logs.values()) {
            if (!log.flushLock.tryLock()) {
                continue;
            }
            try {
                log.lock.lock();
                try {
                    boolean expired;
                    if (!log.initialized) { // a reader's wake-up point for a run not published here
                        expired = now - log.lastActivity >= evictFinishedAfterNanos;
                    } else if (log.terminal) {
                        expired = log.pending.isEmpty() && now - log.terminalAt >= evictFinishedAfterNanos;
                    } else {
                        expired = log.pending.isEmpty() && now - log.lastActivity >= evictIdleAfterNanos;
                    }
                    if (expired) {
                        log.evicted = true;
                        log.version++;
                        logs.remove(log.runId, log);
                        log.changed.signalAll();
                    }
                } finally {
                    log.lock.unlock();
                }
            } finally {
                log.flushLock.unlock();
            }
        }
    }

    /** True while the run's log is held in memory (for tests of eviction). */
    boolean holdsInMemory(RunId runId) {
        RunLog log = logs.get(runId);
        if (log == null) {
            return false;
        }
        log.lock.lock();
        try {
            return log.initialized && !log.evicted;
        } finally {
            log.lock.unlock();
        }
    }

    @Override
    public long lastSeq(RunId runId) {
        RunLog log = logs.get(runId);
        if (log != null) {
            log.lock.lock();
            try {
                if (log.initialized && !log.evicted) {
                    return log.lastSeq;
                }
            } finally {
                log.lock.unlock();
            }
        }
        return store.lastSeq(runId);
    }

    @Override
    public RunSubscription subscribe(RunId runId, long afterSeq) {
        Require.notNull(runId, "runId");
        Require.notNegative(afterSeq, "afterSeq");
        return new Subscription(runId, afterSeq);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        wakeUps.close();
        flusher.shutdown();
        try {
            if (!flusher.awaitTermination(10, TimeUnit.SECONDS)) {
                flusher.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flush();
        for (RunLog log : logs.values()) {
            log.lock.lock();
            try {
                log.changed.signalAll();
            } finally {
                log.lock.unlock();
            }
        }
    }

    /** A reader with its own cursor; waits on its run's log, which doubles as the wake-up point while polling the store. */
    private final class Subscription implements RunSubscription {
        private final RunId runId;
        private final ArrayDeque<RunEvent> fromStore = new ArrayDeque<>();
        private long cursor;
        private boolean finished;
        private boolean tailChecked;
        private volatile boolean closedByReader;
        private volatile RunLog log;

        Subscription(RunId runId, long afterSeq) {
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
                if (closedByReader || closed) {
                    finished = true;
                    return Optional.empty();
                }
                RunEvent buffered = fromStore.poll();
                if (buffered != null) {
                    return deliver(buffered);
                }
                RunLog current = log;
                if (current == null) {
                    current = logFor(runId);
                    log = current;
                }
                long want = cursor + 1;
                RunEvent found = null;
                boolean readStore = false;
                long seen;
                current.lock.lock();
                try {
                    seen = current.version;
                    if (closedByReader || closed) {
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
                if (current.version == seen && !current.evicted && !closedByReader && !closed) {
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
                current.lock.lock();
                try {
                    current.changed.signalAll();
                } finally {
                    current.lock.unlock();
                }
            }
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
