package dev.parley.adapter.inmemory;

import dev.parley.chat.model.Require;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunEventStore;
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
     * servers), with default settings: deltas persisted every 50 ms or 64 events, finished runs
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
        private Duration pollInterval = Duration.ofMillis(50);

        private EventBusBuilder(RunEventStore store) {
            this.store = store;
        }

        /** How often buffered token and thinking events are persisted (default 50 ms). */
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

        /** How often a reader of a run published elsewhere polls the store (default 50 ms). */
        public EventBusBuilder pollInterval(Duration interval) {
            Require.that(!interval.isNegative() && !interval.isZero(), "pollInterval must be positive");
            this.pollInterval = interval;
            return this;
        }

        public EventBus build() {
            return new InMemoryRunEventBus(store, flushInterval, flushBatchSize, evictFinishedAfter, evictIdleAfter, pollInterval);
        }
    }
}
