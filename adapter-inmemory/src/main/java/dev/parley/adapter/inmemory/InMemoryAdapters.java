package dev.parley.adapter.inmemory;

import dev.parley.chat.model.Require;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSignals;
import java.time.Duration;

/**
 * Entry point of the in-memory adapters: the reference {@link ChatStore} (for tests, demos and
 * single-process use; nothing survives the JVM), a stand-alone {@link RunEventStore}, and the
 * in-process run event bus. Every object returned is thread-safe.
 */
public final class InMemoryAdapters {
    private InMemoryAdapters() {}

    /** A new, empty store with serializable transactions that really roll back. */
    public static ChatStore store() {
        return new InMemoryChatStore();
    }

    /** A new, empty run event log, for a bus used without a {@link ChatStore}. */
    public static RunEventStore runEventStore() {
        return new InMemoryChatStore().events();
    }

    /**
     * The run event bus of one server over {@code store} (in-memory, or a database shared by several
     * servers), with default settings: events persisted every 50 ms or 64 events (a terminal one at once), finished runs
     * evicted from memory after 60 s. Close it on shutdown.
     */
    public static EventBus eventBus(RunEventStore store) {
        return eventBusBuilder(store).build();
    }

    /** A builder for an event bus over {@code store} with non-default settings. */
    public static EventBusBuilder eventBusBuilder(RunEventStore store) {
        return new EventBusBuilder(Require.notNull(store, "store"));
    }

    /**
     * A {@link RunEventBus} that owns a background flusher thread (a daemon). {@link #close()}
     * persists what is buffered, stops the flusher and ends every open subscription.
     */
    public interface EventBus extends RunEventBus, AutoCloseable {

        /** Persists every buffered event now. */
        void flush();

        /** Flushes and stops; publishing afterwards throws IllegalStateException. Idempotent. */
        @Override
        void close();
    }

    /** Settings of an {@link EventBus}. Not thread-safe; build once. */
    public static final class EventBusBuilder {
        private final RunEventStore store;
        private Duration flushInterval = Duration.ofMillis(50);
        private int flushBatchSize = 64;
        private Duration evictFinishedAfter = Duration.ofSeconds(60);
        private Duration evictIdleAfter = Duration.ofMinutes(5);
        private Duration pollInterval;
        private RunSignals signals;

        private EventBusBuilder(RunEventStore store) {
            this.store = store;
        }

        /** How often buffered events are persisted (default 50 ms); a terminal event is persisted at once. */
        public EventBusBuilder flushInterval(Duration interval) {
            Require.that(!interval.isNegative() && !interval.isZero(), "flushInterval must be positive");
            this.flushInterval = interval;
            return this;
        }

        /** How many buffered events of a run force a write (default 64). */
        public EventBusBuilder flushBatchSize(int size) {
            this.flushBatchSize = Require.inRange(size, 1, 100_000, "flushBatchSize");
            return this;
        }

        /** How long a finished run's events stay in memory; later readers read the store (default 60 s). */
        public EventBusBuilder evictFinishedAfter(Duration grace) {
            Require.that(!grace.isNegative(), "evictFinishedAfter must not be negative");
            this.evictFinishedAfter = grace;
            return this;
        }

        /** How long an unfinished run may publish nothing before its in-memory log is dropped (default 5 min). */
        public EventBusBuilder evictIdleAfter(Duration idle) {
            Require.that(!idle.isNegative(), "evictIdleAfter must not be negative");
            this.evictIdleAfter = idle;
            return this;
        }

        /**
         * How often a reader of a run published elsewhere polls the store (default 50 ms, or 250 ms
         * with {@link #signals}, which then wake readers as events are stored).
         */
        public EventBusBuilder pollInterval(Duration interval) {
            Require.that(!interval.isNegative() && !interval.isZero(), "pollInterval must be positive");
            this.pollInterval = interval;
            return this;
        }

        /**
         * Hints from the store that a run's events were stored (normally {@code chatStore.signals()}):
         * readers of runs published elsewhere then read new events at once instead of at their next
         * poll. Polling goes on as a fallback for lost hints.
         */
        public EventBusBuilder signals(RunSignals signals) {
            this.signals = Require.notNull(signals, "signals");
            return this;
        }

        public EventBus build() {
            Duration poll = pollInterval != null ? pollInterval : Duration.ofMillis(signals == null ? 50 : 250);
            return new InMemoryRunEventBus(store, flushInterval, flushBatchSize, evictFinishedAfter, evictIdleAfter, poll,
                    signals == null ? RunSignals.none() : signals);
        }
    }
}
