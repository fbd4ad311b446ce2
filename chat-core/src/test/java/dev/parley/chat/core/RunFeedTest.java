package dev.parley.chat.core;

import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The core bus's push subscriptions beyond the port contract: where a subscriber reads from, and when it stops. */
@Timeout(60)
class RunFeedTest {
    private static final Duration NEVER = Duration.ofHours(1);

    private final CountingStore store = new CountingStore(InMemoryAdapters.runEventStore());
    private final RunId run = Fixtures.runId();
    private final ThreadId thread = Fixtures.threadId();
    private final MessageId question = Fixtures.messageId();
    private final List<RunEventBuses.Bus> buses = new ArrayList<>();

    @AfterEach
    void closeBuses() {
        buses.forEach(RunEventBuses.Bus::close);
    }

    private StoreBackedRunEventBus quietBus() {
        RunEventBuses.Bus bus = RunEventBuses.builder(store).flushInterval(NEVER).pollInterval(NEVER).build();
        buses.add(bus);
        return (StoreBackedRunEventBus) bus;
    }

    private List<RunEvent> aRun(int tokens) {
        List<RunEvent> events = new ArrayList<>(eventsOf(run).started(thread, question).build());
        for (int i = 0; i < tokens; i++) {
            events.add(new RunEvent.Token(run, events.size() + 1L, "t" + i));
        }
        events.add(new RunEvent.Done(run, events.size() + 1L, thread, Fixtures.messageId(), Usage.ZERO, null));
        return events;
    }

    @Test
    void should_go_on_from_the_store_when_the_log_a_slow_subscriber_was_reading_is_evicted() throws Exception {
        // given a subscriber blocked in its first event while the run publishes everything
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> events = aRun(600);
        CountDownLatch release = new CountDownLatch(1);
        Sink slow = new Sink() {
            @Override
            public void onEvent(RunEvent event) throws Exception {
                super.onEvent(event);
                if (event.seq() == 1) {
                    release.await();
                }
            }
        };
        bus.subscribe(run, 0, slow);
        events.forEach(bus::publish);

        // when the run's log is evicted before the subscriber goes on
        bus.evictExpired(System.nanoTime() + Duration.ofHours(2).toNanos());
        int readsBefore = store.reads.get();
        release.countDown();

        // then it gets the rest from the store, in order, and ends
        assertThat(bus.holdsInMemory(run)).isFalse();
        assertThat(slow.ended.get(20, TimeUnit.SECONDS)).isNull();
        assertThat(slow.events).containsExactlyElementsOf(events);
        assertThat(store.reads.get()).isGreaterThan(readsBefore);
    }

    @Test
    void should_read_nothing_from_the_store_for_a_subscriber_of_a_run_held_in_memory() throws Exception {
        // given a subscriber of a live run, caught up
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> events = aRun(50);
        bus.publish(events.get(0));
        Sink sink = new Sink();
        bus.subscribe(run, 0, sink);
        assertThat(sink.caughtUp.await(20, TimeUnit.SECONDS)).isTrue();
        int readsBefore = store.reads.get();

        // when the run goes on and ends
        events.subList(1, events.size()).forEach(bus::publish);

        // then everything came from memory
        assertThat(sink.ended.get(20, TimeUnit.SECONDS)).isNull();
        assertThat(sink.events).containsExactlyElementsOf(events);
        assertThat(store.reads.get()).isEqualTo(readsBefore);
    }

    @Test
    void should_end_the_subscription_with_the_failure_when_the_store_cannot_be_read() throws Exception {
        // given a run this bus does not hold, and a store that fails its reads
        StoreBackedRunEventBus bus = quietBus();
        store.failReads.set(true);
        Sink sink = new Sink();

        // when
        bus.subscribe(run, 0, sink);

        // then
        assertThat(sink.ended.get(20, TimeUnit.SECONDS)).isInstanceOf(StorageUnavailableException.class);
        assertThat(sink.events).isEmpty();
    }

    @Test
    void should_not_linger_on_platform_threads_whose_pool_reuses_them() {
        Assumptions.assumeFalse(Threads.hasVirtualThreads(), "this runtime has virtual threads");
        assertThat(lingeringBus(Duration.ofHours(1)).deliveryLingerNanos()).isZero();
    }

    @Test
    void should_hand_every_event_of_a_stream_to_one_thread_while_its_delivery_lingers() throws Exception {
        Assumptions.assumeTrue(Threads.hasVirtualThreads(), "deliveries linger on virtual threads only");
        // given a bus whose deliveries wait longer than the test for their next event
        StoreBackedRunEventBus bus = lingeringBus(Duration.ofHours(1));
        List<RunEvent> events = aRun(40);
        ThreadRecordingSink sink = new ThreadRecordingSink();
        caughtUpAfterTheFirst(bus, events, sink);

        // when the run goes on, an event at a time
        for (RunEvent event : events.subList(1, events.size())) {
            bus.publish(event);
            Thread.sleep(1);
        }

        // then one thread handed them all over
        assertThat(sink.ended.get(20, TimeUnit.SECONDS)).isNull();
        assertThat(sink.events).containsExactlyElementsOf(events);
        assertThat(sink.threads).hasSize(1);
    }

    @Test
    void should_hold_no_delivery_nor_its_thread_once_idle_past_the_linger_and_start_one_for_the_next_event() throws Exception {
        // given a caught-up subscriber on a bus whose deliveries linger 20 ms
        StoreBackedRunEventBus bus = lingeringBus(Duration.ofMillis(20));
        List<RunEvent> events = aRun(3);
        Sink sink = new Sink();
        RunFeed feed = caughtUpAfterTheFirst(bus, events, sink);

        // when nothing comes for longer than the linger
        // then no delivery waits any more, the feed keeps no thread, and the next events start a delivery
        ChatHarness.eventually("no delivery is under way", () -> !feed.deliveryUnderWay());
        ChatHarness.eventually("the ended delivery's thread is let go", () -> !feed.holdsAThread());
        events.subList(1, events.size()).forEach(bus::publish);
        assertThat(sink.ended.get(20, TimeUnit.SECONDS)).isNull();
        assertThat(sink.events).containsExactlyElementsOf(events);
    }

    @Test
    void should_let_a_delivery_that_lingers_longer_than_the_test_go_when_the_bus_closes() throws Exception {
        Assumptions.assumeTrue(Threads.hasVirtualThreads(), "deliveries linger on virtual threads only");
        // given a caught-up subscriber whose delivery waits an hour for the next event
        StoreBackedRunEventBus bus = lingeringBus(Duration.ofHours(1));
        List<RunEvent> events = aRun(3);
        Sink sink = new Sink();
        RunFeed feed = caughtUpAfterTheFirst(bus, events, sink);
        ChatHarness.eventually("the delivery lingers", feed::lingering);
        assertThat(bus.lingerers.size()).isEqualTo(1);

        // when
        bus.close();

        // then the subscription ends and its delivery lets its thread go
        assertThat(sink.ended.get(20, TimeUnit.SECONDS)).isNull();
        ChatHarness.eventually("no delivery is under way", () -> !feed.deliveryUnderWay());
        ChatHarness.eventually("the ended delivery's thread is let go", () -> !feed.holdsAThread());
    }

    @Test
    void should_keep_a_feed_once_on_the_lingerers_queue_however_often_its_delivery_lingers() throws Exception {
        Assumptions.assumeTrue(Threads.hasVirtualThreads(), "deliveries linger on virtual threads only");
        // given a subscriber whose delivery lingers between events
        StoreBackedRunEventBus bus = lingeringBus(Duration.ofHours(1));
        List<RunEvent> events = aRun(50);
        Sink sink = new Sink();
        RunFeed feed = caughtUpAfterTheFirst(bus, events, sink);

        // when the run goes on, an event at a time, and the sweep looks between them
        for (RunEvent event : events.subList(1, events.size() - 1)) {
            bus.publish(event);
            ChatHarness.eventually("the delivery lingers again", feed::lingering);
            bus.lingerers.sweep(false);
        }

        // then the feed is on the queue once, and only until it ends
        assertThat(bus.lingerers.size()).isEqualTo(1);
        bus.publish(events.get(events.size() - 1));
        assertThat(sink.ended.get(20, TimeUnit.SECONDS)).isNull();
        ChatHarness.eventually("no delivery is under way", () -> !feed.deliveryUnderWay());
        bus.lingerers.sweep(false);
        assertThat(bus.lingerers.size()).isZero();
        assertThat(sink.events).containsExactlyElementsOf(events);
    }

    @Test
    void should_lose_no_event_when_events_come_as_a_delivery_stops_lingering() throws Exception {
        // given deliveries that linger about as long as the gaps between events
        StoreBackedRunEventBus bus = lingeringBus(Duration.ofNanos(200_000));
        List<RunEvent> events = aRun(3_000);
        Sink sink = new Sink();
        bus.subscribe(run, 0, sink);
        java.util.Random gaps = new java.util.Random(7);

        // when
        for (RunEvent event : events) {
            bus.publish(event);
            if (gaps.nextInt(4) == 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(gaps.nextInt(400_000));
            }
        }

        // then
        assertThat(sink.ended.get(30, TimeUnit.SECONDS)).isNull();
        assertThat(sink.events).containsExactlyElementsOf(events);
    }

    /** Publishes the first of {@code events}, subscribes {@code sink} from the start, and waits until it caught up. */
    private RunFeed caughtUpAfterTheFirst(StoreBackedRunEventBus bus, List<RunEvent> events, Sink sink) throws InterruptedException {
        bus.publish(events.get(0));
        RunFeed feed = (RunFeed) bus.subscribe(run, 0, sink);
        assertThat(sink.caughtUp.await(20, TimeUnit.SECONDS)).isTrue();
        return feed;
    }

    private StoreBackedRunEventBus lingeringBus(Duration linger) {
        RunEventBuses.Bus bus = RunEventBuses.builder(store).flushInterval(NEVER).pollInterval(NEVER).deliveryLinger(linger).build();
        buses.add(bus);
        return (StoreBackedRunEventBus) bus;
    }

    /** A {@link Sink} that also notes the threads it was called on. */
    private static final class ThreadRecordingSink extends Sink {
        final java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public void onEvent(RunEvent event) throws Exception {
            threads.add(Thread.currentThread());
            super.onEvent(event);
        }
    }

    /** Records events; completes {@link #ended} with the end's failure (null for none). */
    private static class Sink implements RunEventSink {
        final List<RunEvent> events = new ArrayList<>();
        final CountDownLatch caughtUp = new CountDownLatch(1);
        final CompletableFuture<Throwable> ended = new CompletableFuture<>();

        @Override
        public void onEvent(RunEvent event) throws Exception {
            events.add(event);
        }

        @Override
        public void onCaughtUp() {
            caughtUp.countDown();
        }

        @Override
        public void onEnd(Throwable failure) {
            ended.complete(failure);
        }
    }

    /** An event store that counts reads and can fail them. */
    private static final class CountingStore implements RunEventStore {
        private final RunEventStore delegate;
        final AtomicInteger reads = new AtomicInteger();
        final AtomicBoolean failReads = new AtomicBoolean();

        CountingStore(RunEventStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public void append(List<RunEvent> events) {
            delegate.append(events);
        }

        @Override
        public List<RunEvent> read(RunId runId, long afterSeq, int max) {
            reads.incrementAndGet();
            if (failReads.get()) {
                throw new StorageUnavailableException("the store is down", null);
            }
            return delegate.read(runId, afterSeq, max);
        }

        @Override
        public long lastSeq(RunId runId) {
            return delegate.lastSeq(runId);
        }
    }
}
