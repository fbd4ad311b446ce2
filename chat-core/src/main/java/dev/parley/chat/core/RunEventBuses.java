package dev.parley.chat.core;

import dev.parley.chat.model.Require;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSignals;
import java.time.Duration;

/**
 * The run event bus of one server, over a store's event log (in memory, or a database shared by
 * several servers). {@link ChatService#builder()} builds one by default; build one here only to
 * share it or to use it without a {@link ChatService}.
 *
 * <p>Subscribers are pushed the events ({@link dev.parley.chat.port.in.RunEventSink}) from a cursor
 * of their own into a per-run in-memory log, on delivery threads (a virtual thread per delivery on
 * Java 21+): a publisher never waits for a subscriber, a slow subscriber only falls behind and goes on
 * from the log (or the store) where it stopped, and an idle one holds no thread. Events are written in batches (at 64 buffered, every 50 ms, or with the run's terminal
 * event); a terminal event is stored, with everything buffered before it, before {@code publish}
 * returns. Runs published before a restart, evicted from memory (60 s after they end) or running on
 * another server over the same store are read from the store until they end: a hint from the
 * store's {@link RunSignals} that a run's events were stored wakes their subscribers at once, and
 * polling is the fallback (every 250 ms, or every 50 ms with {@link RunSignals#none()}). Once
 * another server ended a run in the store (its owner's lease had expired), the bus drops the late
 * events it still buffers for that run instead of writing them after the terminal event.
 */
public final class RunEventBuses {
    private RunEventBuses() {}

    /** The bus over {@code store}'s event log, woken by its signals. Close it on shutdown. */
    public static Bus create(ChatStore store) {
        Require.notNull(store, "store");
        return create(store.events(), store.signals());
    }

    /** The bus over {@code events}, woken by {@code signals} ({@link RunSignals#none()} to poll alone). Close it on shutdown. */
    public static Bus create(RunEventStore events, RunSignals signals) {
        return builder(events).signals(signals).build();
    }

    /** A builder with non-default settings (for tests). */
    static Builder builder(RunEventStore events) {
        return new Builder(Require.notNull(events, "events"));
    }

    /**
     * A {@link RunEventBus} that owns a background flusher thread (a daemon), which also times the
     * polls of subscribers reading the store, and the executor of deliveries. {@link #close()}
     * persists what is buffered, stops the flusher and ends every open subscription.
     */
    public interface Bus extends RunEventBus, AutoCloseable {

        /** Persists every buffered event now. */
        void flush();

        /** Flushes and stops; publishing afterwards throws IllegalStateException. Idempotent. */
        @Override
        void close();
    }

    /** Settings of a {@link Bus}. Not thread-safe; build once. */
    static final class Builder {
        static final long DEFAULT_MAX_FINISHED_EVENTS = 200_000;
        private final RunEventStore store;
        private Duration flushInterval = Duration.ofMillis(50);
        private int flushBatchSize = 64;
        private Duration evictFinishedAfter = Duration.ofSeconds(60);
        private long maxFinishedEvents = DEFAULT_MAX_FINISHED_EVENTS;
        private Duration evictIdleAfter = Duration.ofMinutes(5);
        private Duration pollInterval;
        private RunSignals signals = RunSignals.none();
        private Duration deliveryLinger = Duration.ofMillis(200);

        private Builder(RunEventStore store) {
            this.store = store;
        }

        /** How often buffered events are persisted (default 50 ms); a terminal event is persisted at once. */
        Builder flushInterval(Duration interval) {
            Require.that(!interval.isNegative() && !interval.isZero(), "flushInterval must be positive");
            this.flushInterval = interval;
            return this;
        }

        /** How many buffered events of a run force a write (default 64). */
        Builder flushBatchSize(int size) {
            this.flushBatchSize = Require.inRange(size, 1, 100_000, "flushBatchSize");
            return this;
        }

        /** How long a finished run's events stay in memory; later subscribers read the store (default 60 s). */
        Builder evictFinishedAfter(Duration grace) {
            Require.that(!grace.isNegative(), "evictFinishedAfter must not be negative");
            this.evictFinishedAfter = grace;
            return this;
        }

        /**
         * How many events the logs of finished runs may hold in memory together (default
         * {@value #DEFAULT_MAX_FINISHED_EVENTS}, some tens of megabytes of tokens); past it the runs that
         * finished first are dropped before their grace period, and their later subscribers read the store.
         * Bounds the memory of a server that finishes many runs a minute.
         */
        Builder maxFinishedEvents(long events) {
            Require.that(events >= 0, "maxFinishedEvents must not be negative");
            this.maxFinishedEvents = events;
            return this;
        }

        /** How long an unfinished run may publish nothing before its in-memory log is dropped (default 5 min). */
        Builder evictIdleAfter(Duration idle) {
            Require.that(!idle.isNegative(), "evictIdleAfter must not be negative");
            this.evictIdleAfter = idle;
            return this;
        }

        /**
         * How often a subscriber of a run published elsewhere polls the store (default 50 ms, or 250 ms
         * with {@link #signals}, which then wake subscribers as events are stored).
         */
        Builder pollInterval(Duration interval) {
            Require.that(!interval.isNegative() && !interval.isZero(), "pollInterval must be positive");
            this.pollInterval = interval;
            return this;
        }

        /**
         * Hints from the store that a run's events were stored (normally {@code chatStore.signals()}):
         * subscribers of runs published elsewhere then read new events at once instead of at their next
         * poll. Polling goes on as a fallback for lost hints.
         */
        Builder signals(RunSignals signals) {
            this.signals = Require.notNull(signals, "signals");
            return this;
        }

        /**
         * How long a subscription's delivery, having handed over every event, waits on its thread for the
         * next one before the thread ends (default 200 ms, let go by a sweep every quarter of it, so up to a
         * quarter longer; zero: it ends at once). A stream's events then
         * share one thread while they come faster than that. Virtual threads only: without them the
         * deliveries run on a pool of platform threads, which reuses its threads and does not linger.
         */
        Builder deliveryLinger(Duration linger) {
            Require.that(!linger.isNegative(), "deliveryLinger must not be negative");
            this.deliveryLinger = linger;
            return this;
        }

        Bus build() {
            boolean hinted = signals != RunSignals.none();
            Duration poll = pollInterval != null ? pollInterval : Duration.ofMillis(hinted ? 250 : 50);
            return new StoreBackedRunEventBus(store, flushInterval, flushBatchSize, evictFinishedAfter, maxFinishedEvents,
                    evictIdleAfter, poll, signals, deliveryLinger);
        }
    }
}
