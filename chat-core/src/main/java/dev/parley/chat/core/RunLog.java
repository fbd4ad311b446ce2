package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunEventStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One run's recent events in {@link StoreBackedRunEventBus}, its unpersisted tail and the subscriptions
 * it wakes. Fields are guarded by {@link #lock}; appends to the store by {@link #flushLock}.
 */
final class RunLog {
    final RunId runId;
    final ReentrantLock lock = new ReentrantLock();
    /**
     * The subscriptions woken by every change of this log (a publish, its eviction); also those that read
     * the run from the store, for which the log is only the place the store's hints reach them.
     */
    final List<RunFeed> feeds = new CopyOnWriteArrayList<>();
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
    long lastActivity = System.nanoTime();
    long terminalAt;
    /** A {@code token} or {@code thinking} event was published here (the run's first text was handed over). */
    boolean textPublished;
    /** The events this log held when it finished, as counted in the bus's budget for finished logs. */
    int countedEvents;
    /** Finished here and queued among the bus's finished logs, which drops it from that queue. */
    volatile boolean queued;

    RunLog(RunId runId) {
        this.runId = runId;
    }

    RunEvent get(long seq) {
        return events.get((int) (seq - firstSeq));
    }

    /** Starts the log of a run that has published nothing yet, without reading the store. Lock held. */
    void initializeEmpty() {
        firstSeq = 1;
        lastSeq = 0;
        terminal = false;
        terminalAt = System.nanoTime();
        initialized = true;
    }

    /** Continues the log where {@code store} ends (a run published before a restart or an eviction). Lock held. */
    void initialize(RunEventStore store) {
        long stored = store.lastSeq(runId);
        boolean ended = false;
        if (stored > 0) {
            List<RunEvent> tail = store.read(runId, stored - 1, 1);
            ended = !tail.isEmpty() && tail.get(0).isTerminal();
        }
        firstSeq = stored + 1;
        lastSeq = stored;
        terminal = ended;
        terminalAt = System.nanoTime();
        initialized = true;
    }

    boolean isStoreFailing() {
        lock.lock();
        try {
            return storeFailing;
        } finally {
            lock.unlock();
        }
    }

    void markStoreFailing(boolean failing) {
        lock.lock();
        try {
            storeFailing = failing;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every subscription of this log; called without holding {@link #lock}. */
    void wakeFeeds() {
        wakeFeeds(false);
    }

    /**
     * Wakes every subscription of this log, without holding {@link #lock}; when {@code awaited} (see
     * {@link #awaited}) and the log has subscriptions, the calling thread then lets their deliveries go first
     * ({@link Threads#yieldToWoken}): started, woken from their linger or queued, they wait for a carrier.
     */
    void wakeFeeds(boolean awaited) {
        for (RunFeed feed : feeds) {
            feed.wake();
        }
        if (awaited && !feeds.isEmpty()) {
            Threads.yieldToWoken();
        }
    }

    /**
     * Whether readers wait for {@code event} as for nothing else of the run: its first text (a {@code token} or
     * {@code thinking}) and its end. Lock held.
     */
    boolean awaited(RunEvent event) {
        boolean text = event instanceof RunEvent.Token || event instanceof RunEvent.Thinking;
        boolean first = text && !textPublished;
        textPublished |= text;
        return first || event.isTerminal();
    }
}
