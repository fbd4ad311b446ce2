package dev.parley.chat.core;

import dev.parley.chat.model.EventLogRules;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.Subscription;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSignals;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run event bus of one server. Each run known here has an in-memory {@link RunLog} of its recent
 * events; publishing appends to it and wakes the run's subscriptions, and each {@link RunFeed} pushes
 * the log to its sink from its own cursor, on a delivery thread, so a slow subscriber never holds up a
 * publisher and an idle one holds no thread. Events are
 * persisted to the {@link RunEventStore} in batches: events are buffered until the run's terminal
 * event arrives, the buffer holds {@code batchSize} events, or the background flusher runs (every
 * {@code flushInterval}); a terminal event is stored, with everything buffered before it, before
 * {@link #publish} returns. Readers of runs this server does not hold (run before a restart,
 * evicted, or executing on another server sharing the store) page from the store and poll it until
 * the terminal event; a hint from the store's {@link RunSignals} that the run's events were stored
 * wakes them before the next poll. Finished runs' logs are evicted after a grace period; their
 * subscribers still behind go on from the store.
 */
final class StoreBackedRunEventBus implements RunEventBuses.Bus {
    private static final Logger LOG = LoggerFactory.getLogger(StoreBackedRunEventBus.class);
    /** How many finished logs that cannot be dropped yet one pass of {@link #evictOverBudget} puts back at most. */
    private static final int MAX_DEFERRED_PER_PASS = 1_000;

    private final RunEventStore store;
    private final int batchSize;
    private final long evictFinishedAfterNanos;
    private final long evictIdleAfterNanos;
    private final long pollIntervalNanos;
    private final long deliveryLingerNanos;
    /** The deliveries that linger, and the sweep that lets them go. */
    final Lingerers lingerers = new Lingerers();
    private final ConcurrentHashMap<RunId, RunLog> logs = new ConcurrentHashMap<>();
    /** Finished logs in the order they finished, each with the events it holds counted in {@link #finishedEvents}. */
    private final ConcurrentLinkedQueue<RunLog> finished = new ConcurrentLinkedQueue<>();
    private final AtomicLong finishedEvents = new AtomicLong();
    /** How many events finished logs may hold together before the oldest are dropped ahead of their grace. */
    private final long maxFinishedEvents;
    private final RunLogWriter writer;
    private final ScheduledThreadPoolExecutor flusher;
    /** Runs the deliveries of subscriptions: a virtual thread each when the runtime has them. */
    private final ExecutorService deliveries;
    private final RunSignals.Registration wakeUps;
    /** How often the flusher looks for logs to evict: a tenth of the shorter grace, between one tick and 1 s. */
    private final long evictEveryNanos;
    /** When the flusher last looked (flusher thread only). */
    private long lastEviction = System.nanoTime();
    private volatile boolean closed;

    StoreBackedRunEventBus(RunEventStore store, Duration flushInterval, int batchSize, Duration evictFinishedAfter,
                           long maxFinishedEvents, Duration evictIdleAfter, Duration pollInterval, RunSignals signals,
                           Duration deliveryLinger) {
        this.store = Require.notNull(store, "store");
        this.maxFinishedEvents = maxFinishedEvents;
        this.writer = new RunLogWriter(store);
        this.batchSize = Require.inRange(batchSize, 1, 100_000, "batchSize");
        this.evictFinishedAfterNanos = evictFinishedAfter.toNanos();
        this.evictIdleAfterNanos = evictIdleAfter.toNanos();
        this.pollIntervalNanos = Math.max(1, pollInterval.toNanos());
        // a pool of platform threads already reuses its threads; lingering there would hold one per stream
        this.deliveryLingerNanos = Threads.hasVirtualThreads() ? deliveryLinger.toNanos() : 0;
        long tick = Math.max(1, flushInterval.toMillis());
        this.evictEveryNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(tick),
                Math.min(TimeUnit.SECONDS.toNanos(1), Math.min(evictFinishedAfterNanos, evictIdleAfterNanos) / 10));
        this.flusher = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-run-event-flusher");
            t.setDaemon(true);
            return t;
        });
        flusher.setRemoveOnCancelPolicy(true); // the polls of subscriptions that end before them
        this.deliveries = Threads.deliveryExecutor();
        flusher.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
        if (deliveryLingerNanos > 0) { // a lingering delivery ends within a quarter of the linger (at least 1 ms) of its end
            long sweep = Math.max(TimeUnit.MILLISECONDS.toNanos(1), deliveryLingerNanos / 4);
            flusher.scheduleWithFixedDelay(() -> lingerers.sweep(false), sweep, sweep, TimeUnit.NANOSECONDS);
        }
        this.wakeUps = signals.onEventsStored(this::wakeReaders);
    }

    /** Wakes the subscriptions of the run, so that those reading the store read it now. */
    private void wakeReaders(RunId runId) {
        RunLog log = logs.get(runId);
        if (log != null) {
            log.wakeFeeds();
        }
    }

    @Override
    public void publish(RunEvent event) {
        Require.notNull(event, "event");
        Require.that(event.isReplayable(), "heartbeats are not part of a run's log");
        if (closed) {
            throw new IllegalStateException("the event bus is closed");
        }
        RunLog log = lockedLogFor(event);
        boolean flushNow;
        boolean awaited;
        try {
            awaited = log.awaited(event);
            log.events.add(event);
            log.lastSeq = event.seq();
            log.lastActivity = System.nanoTime();
            if (event.isTerminal()) {
                log.terminal = true;
                log.terminalAt = log.lastActivity;
            }
            log.pending.add(event);
            // only the terminal event waits for the store; the others go with it, with a full batch or with
            // the flusher's next tick. While the store fails, a full batch is left to the background flusher,
            // so that the run (and its live subscribers) do not wait out a store timeout at every token
            flushNow = event.isTerminal() || (log.pending.size() >= batchSize && !log.storeFailing);
            if (event.isTerminal()) {
                countFinished(log);
            }
        } finally {
            log.lock.unlock();
        }
        log.wakeFeeds(awaited);
        if (flushNow) {
            writer.flush(log, event.isTerminal());
        } else {
            writer.dirty(log);
        }
    }

    /**
     * Stores the terminal event, with the run's buffered events, in the transaction of {@code work}
     * when this bus persists to {@code chatStore}'s event log; subscribers get it once that committed.
     */
    @Override
    public <T> T publishWith(RunEvent event, ChatStore chatStore, Supplier<T> work) {
        Require.notNull(event, "event");
        Require.notNull(chatStore, "chatStore");
        Require.notNull(work, "work");
        Require.that(event.isTerminal(), "only a terminal event is published with a transaction");
        if (chatStore.events() != store) {
            return RunEventBuses.Bus.super.publishWith(event, chatStore, work);
        }
        if (closed) {
            throw new IllegalStateException("the event bus is closed");
        }
        RunLog log = lockedLogFor(event);
        log.lock.unlock();
        // the buffered events leave with the terminal one; taken before the transaction, so that a write of
        // this run under way on the flusher ends first, and nothing here waits for a lock while it holds the store's
        List<RunEvent> buffered = writer.takePending(log);
        T result;
        try {
            // after a write of this run that seemed to fail, part of what is buffered may be stored: it is
            // left out here, as a store call that fails inside the transaction would fail the transaction
            List<RunEvent> batch = new ArrayList<>(log.isStoreFailing() ? writer.notYetStored(event.runId(), buffered) : buffered);
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
                writer.dirty(log);
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
            countFinished(log);
        } finally {
            log.lock.unlock();
        }
        log.wakeFeeds(true);
        return result;
    }

    /**
     * The run's current log, locked, once {@code event} was checked against it by {@link EventLogRules};
     * the caller unlocks it. The log of a run not known here continues the stored one, but a first
     * {@code run_started} starts an empty log without reading the store.
     */
    private RunLog lockedLogFor(RunEvent event) {
        while (true) {
            RunLog log = logFor(event.runId());
            log.lock.lock();
            try {
                if (log.evicted) {
                    log.lock.unlock();
                    continue;
                }
                if (!log.initialized) {
                    if (event instanceof RunEvent.RunStarted && event.seq() == 1) {
                        // a run is started once, and run_started is its first event: its log is empty
                        log.initializeEmpty();
                    } else {
                        log.initialize(store);
                    }
                }
                EventLogRules.requirePublishable(log.lastSeq, log.terminal, event);
                return log;
            } catch (RuntimeException | Error e) {
                log.lock.unlock();
                throw e;
            }
        }
    }

    /** The run's log, made when the run is not known here yet. */
    RunLog logFor(RunId runId) {
        RunLog log = logs.get(runId);
        return log != null ? log : logs.computeIfAbsent(runId, RunLog::new);
    }

    @Override
    public void flush() {
        writer.flushAll();
    }

    /** Queues a log that just finished for {@link #evictOverBudget}. Lock held. */
    private void countFinished(RunLog log) {
        log.queued = true;
        log.countedEvents = log.events.size();
        finishedEvents.addAndGet(log.countedEvents);
        finished.add(log);
    }

    /** Background work: persist buffered events, then evict logs that are done with. */
    private void tick() {
        try {
            flush();
            evictOverBudget();
            // every log is looked at, so not at every tick: finished runs are kept for a minute by default anyway
            long now = System.nanoTime();
            if (now - lastEviction >= evictEveryNanos) {
                lastEviction = now;
                evictExpired(now);
            }
        } catch (RuntimeException | Error e) {
            LOG.warn("run event flusher failed: {}", e.toString());
        }
    }

    /**
     * While finished logs hold more than {@code maxFinishedEvents} events, drops the oldest ahead of
     * their grace period (their later subscribers read the store, as after the grace), so that the
     * memory finished runs take is bounded however many turns a minute the server makes. Flusher
     * thread (or a test) only.
     */
    void evictOverBudget() {
        drainFinished(0, false);
    }

    /**
     * Drops finished logs from the head of {@link #finished} (the order they finished in) while their
     * events pass the budget or, {@code byTime}, their grace ended as of {@code now}; logs dropped
     * otherwise leave the count as they come to the head. Finished logs are thus dropped in the number
     * dropped, never by a walk of every log.
     */
    private void drainFinished(long now, boolean byTime) {
        // a log that cannot go yet (its events not stored, or a write of them under way) goes to the back, a
        // bounded number per call (the queue's size is not counted: that walks it)
        int deferrable = MAX_DEFERRED_PER_PASS;
        RunLog head;
        while ((head = finished.peek()) != null) {
            boolean over = finishedEvents.get() > maxFinishedEvents;
            boolean expired = byTime && now - head.terminalAt >= evictFinishedAfterNanos;
            if (!over && !expired && !head.evicted) {
                return;
            }
            finished.poll();
            finishedEvents.addAndGet(-head.countedEvents);
            if (!evictFinished(head)) {
                finishedEvents.addAndGet(head.countedEvents);
                finished.add(head);
                if (--deferrable <= 0) {
                    return;
                }
            }
        }
    }

    /** Drops a finished log whose events are all stored; false when it cannot be dropped now. */
    private boolean evictFinished(RunLog log) {
        return dropIf(log, l -> l.pending.isEmpty());
    }

    /**
     * Drops {@code log} when {@code due} (tested under its locks) says so, then wakes its subscribers,
     * which go on from the store or from the run's next log. True when the log is gone (or was already);
     * false when it stays: not due, or a write of its events under way.
     */
    private boolean dropIf(RunLog log, Predicate<RunLog> due) {
        if (!log.flushLock.tryLock()) {
            return false;
        }
        try {
            log.lock.lock();
            try {
                if (log.evicted) {
                    return true;
                }
                if (!due.test(log)) {
                    return false;
                }
                log.evicted = true;
                logs.remove(log.runId, log);
            } finally {
                log.lock.unlock();
            }
        } finally {
            log.flushLock.unlock();
        }
        log.wakeFeeds();
        return true;
    }

    /** Drops logs that are done with as of {@code now} (a {@link System#nanoTime()} value). */
    void evictExpired(long now) {
        drainFinished(now, true);
        Predicate<RunLog> expired = log -> {
            if (!log.initialized) { // the wake-up point of subscribers of a run not published here
                return now - log.lastActivity >= evictFinishedAfterNanos;
            }
            return log.pending.isEmpty() && (log.terminal ? now - log.terminalAt >= evictFinishedAfterNanos
                    : now - log.lastActivity >= evictIdleAfterNanos);
        };
        for (RunLog log : logs.values()) {
            if (!log.queued) { // a log finished here leaves from the queue of finished logs, in the order they finished
                dropIf(log, expired);
            }
        }
    }

    /**
     * Stores the run's buffered events and drops its log, so that its subscribers here go on from the
     * store and a later publish continues the stored log (see {@link RunEventBus#handOff}).
     */
    @Override
    public void handOff(RunId runId) {
        Require.notNull(runId, "runId");
        RunLog log = logs.get(runId);
        if (log == null) {
            return;
        }
        log.flushLock.lock();
        try {
            writer.flush(log, true);
            log.lock.lock();
            try {
                if (!log.pending.isEmpty()) {
                    throw new StorageUnavailableException("the events of run " + runId + " could not be stored", null);
                }
                log.evicted = true;
                logs.remove(log.runId, log);
            } finally {
                log.lock.unlock();
            }
        } finally {
            log.flushLock.unlock();
        }
        log.wakeFeeds();
    }

    /** How long a delivery that has handed over every event waits on its thread for the next wake-up. */
    long deliveryLingerNanos() {
        return deliveryLingerNanos;
    }

    /** How often a subscriber of a run published elsewhere polls the store (for tests). */
    Duration pollInterval() {
        return Duration.ofNanos(pollIntervalNanos);
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
    public Subscription subscribe(RunId runId, long afterSeq, RunEventSink sink) {
        Require.notNull(runId, "runId");
        Require.notNegative(afterSeq, "afterSeq");
        Require.notNull(sink, "sink");
        RunFeed feed = new RunFeed(this, store, runId, afterSeq, sink);
        feed.wake();
        return feed;
    }

    /** Starts a delivery of {@code feed}; on the calling thread once the bus is closed (the delivery then ends it). */
    void deliver(RunFeed feed) {
        if (!closed) {
            try {
                deliveries.execute(feed);
                return;
            } catch (RejectedExecutionException closing) {
                // closed meanwhile
            }
        }
        feed.run();
    }

    /** Runs {@code wakeUp} after the poll interval (null once the bus is closed, which ends every subscription). */
    Future<?> afterPollInterval(Runnable wakeUp) {
        try {
            return flusher.schedule(wakeUp, pollIntervalNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            return null;
        }
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
            log.wakeFeeds();
        }
        lingerers.sweep(true);
        deliveries.shutdown(); // the deliveries under way end their subscriptions; later ones run on their caller
    }

    boolean isClosed() {
        return closed;
    }
}
