package dev.parley.chat.core;

import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Behaviour of the core's bus beyond the port contract: batching, eviction, failure handling. */
@Timeout(60)
class StoreBackedRunEventBusTest {
    private static final Duration NEVER = Duration.ofHours(1);

    private final RecordingEventStore store = new RecordingEventStore(InMemoryAdapters.runEventStore());
    private final RunId run = Fixtures.runId();
    private final ThreadId thread = Fixtures.threadId();
    private final MessageId question = Fixtures.messageId();
    private final List<RunEventBuses.Bus> buses = new ArrayList<>();

    @AfterEach
    void closeBuses() {
        buses.forEach(RunEventBuses.Bus::close);
    }

    private StoreBackedRunEventBus bus(RunEventBuses.Builder builder) {
        RunEventBuses.Bus bus = builder.build();
        buses.add(bus);
        return (StoreBackedRunEventBus) bus;
    }

    /** A bus whose background flusher never gets to run during a test. */
    private StoreBackedRunEventBus quietBus() {
        return bus(RunEventBuses.builder(store).flushInterval(NEVER));
    }

    @Test
    void should_write_the_events_of_a_run_in_one_batch_with_its_terminal_event() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("a", "b", "c")
                .traceStart(Fixtures.stepId(), new ToolCall("call_1", "calculator", "{}")).tokens("d")
                .done(thread, Fixtures.messageId(), Usage.ZERO, null).build();

        // when
        events.forEach(bus::publish);

        // then
        assertThat(store.batchSizes()).containsExactly(7);
        assertThat(store.read(run, 0, 100)).containsExactlyElementsOf(events);
    }

    @Test
    void should_run_the_work_and_then_publish_when_the_transaction_belongs_to_another_store_than_its_log() {
        // given a bus whose log is not the chat store's
        StoreBackedRunEventBus bus = quietBus();
        ChatStore chatStore = InMemoryAdapters.store();
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("a")
                .done(thread, Fixtures.messageId(), Usage.ZERO, null).build();
        events.subList(0, 2).forEach(bus::publish);

        // when
        String result = bus.publishWith(events.get(2), chatStore, () -> "worked");

        // then
        assertThat(result).isEqualTo("worked");
        assertThat(store.batchSizes()).containsExactly(3);
        assertThat(store.read(run, 0, 100)).containsExactlyElementsOf(events);
    }

    @Test
    void should_start_the_log_of_a_run_at_its_run_started_without_reading_the_store() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("a")
                .done(thread, Fixtures.messageId(), Usage.ZERO, null).build();

        // when
        events.forEach(bus::publish);

        // then
        assertThat(store.lastSeqReads()).isZero();
        assertThat(store.read(run, 0, 100)).containsExactlyElementsOf(events);
    }

    @Test
    void should_write_buffered_tokens_once_64_are_waiting() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens(words(130)).build();

        // when
        events.forEach(bus::publish);

        // then
        assertThat(store.batchSizes()).containsExactly(64, 64);
        assertThat(store.lastSeq(run)).isEqualTo(128);
        assertThat(bus.lastSeq(run)).isEqualTo(131);
    }

    @Test
    void should_not_make_the_run_wait_for_a_failing_store_at_every_full_batch_of_tokens() {
        // given a store that is down
        StoreBackedRunEventBus bus = quietBus();
        store.failNextAppends(Integer.MAX_VALUE);
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens(words(200)).build();
        events.subList(0, 64).forEach(bus::publish);
        int attemptsWhileDown = store.attempts();
        assertThat(attemptsWhileDown).isEqualTo(1);

        // when the run streams several more full batches of tokens
        events.subList(64, 201).forEach(bus::publish);

        // then the publishing thread did not try the store again: the background flusher retries
        assertThat(store.attempts()).isEqualTo(attemptsWhileDown);
        assertThat(bus.lastSeq(run)).isEqualTo(201);

        // when the store is back, the terminal event writes everything, in order
        store.failNextAppends(0);
        bus.publish(new RunEvent.Cancelled(run, 202, null));

        // then
        assertThat(store.batchSizes()).containsExactly(202);
        assertThat(store.lastSeq(run)).isEqualTo(202);
    }

    @Test
    void should_write_buffered_tokens_in_the_background() {
        // given
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(store).flushInterval(Duration.ofMillis(10)));

        // when
        eventsOf(run).started(thread, question).tokens("a", "b", "c").build().forEach(bus::publish);

        // then
        awaitTrue(() -> store.lastSeq(run) == 4);
    }

    @Test
    void should_write_everything_buffered_on_flush_and_on_close() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        eventsOf(run).started(thread, question).tokens("a", "b").build().forEach(bus::publish);

        // when
        bus.flush();
        bus.publish(new RunEvent.Token(run, 4, "c"));
        bus.close();

        // then
        assertThat(store.lastSeq(run)).isEqualTo(4);
        assertThatThrownBy(() -> bus.publish(new RunEvent.Token(run, 5, "d"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void should_evict_a_finished_run_after_the_grace_period_and_replay_it_from_the_store() throws Exception {
        // given
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(store).flushInterval(NEVER)
                .evictFinishedAfter(Duration.ofSeconds(30)));
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("x", "y")
                .done(thread, Fixtures.messageId(), Usage.ZERO, null).build();
        events.forEach(bus::publish);

        // when
        bus.evictExpired(System.nanoTime() + Duration.ofSeconds(10).toNanos());
        boolean heldDuringGrace = bus.holdsInMemory(run);
        bus.evictExpired(System.nanoTime() + Duration.ofSeconds(31).toNanos());

        // then
        assertThat(heldDuringGrace).isTrue();
        assertThat(bus.holdsInMemory(run)).isFalse();
        assertThat(bus.lastSeq(run)).isEqualTo(4);
        int readsBefore = store.reads();
        try (RunSubscription sub = bus.subscribe(run, 1)) {
            assertThat(readAll(sub)).containsExactlyElementsOf(events.subList(1, 4));
        }
        assertThat(store.reads()).isGreaterThan(readsBefore);
        assertThatThrownBy(() -> bus.publish(new RunEvent.Token(run, 5, "late"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_evict_finished_runs_in_the_background() {
        // given
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(store).flushInterval(Duration.ofMillis(10))
                .evictFinishedAfter(Duration.ZERO));

        // when
        eventsOf(run).started(thread, question).cancelled(null).build().forEach(bus::publish);

        // then
        awaitTrue(() -> !bus.holdsInMemory(run));
    }

    @Test
    void should_let_a_reader_that_held_an_evicted_log_finish_reading() throws Exception {
        // given
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("x")
                .error("model_error", "x").build();
        events.forEach(bus::publish);
        RunSubscription sub = bus.subscribe(run, 0);
        Optional<RunEvent> first = sub.next(Duration.ZERO);

        // when
        bus.evictExpired(System.nanoTime() + Duration.ofHours(2).toNanos());

        // then
        assertThat(first).contains(events.get(0));
        assertThat(readAll(sub)).containsExactlyElementsOf(events.subList(1, 3));
    }

    @Test
    void should_drop_an_idle_unfinished_log_and_continue_the_run_from_the_store() throws Exception {
        // given
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(store).flushInterval(NEVER)
                .evictIdleAfter(Duration.ofMinutes(5)));
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("a", "b")
                .traceStart(Fixtures.stepId(), new ToolCall("call_1", "slow", "{}"))
                .done(thread, Fixtures.messageId(), Usage.ZERO, null).build();
        events.subList(0, 4).forEach(bus::publish);
        bus.flush(); // what the background flusher does before it looks for logs to evict
        RunSubscription follower = bus.subscribe(run, 0);

        // when
        bus.evictExpired(System.nanoTime() + Duration.ofMinutes(6).toNanos());
        boolean held = bus.holdsInMemory(run);
        bus.publish(events.get(4));

        // then
        assertThat(held).isFalse();
        assertThat(readAll(follower)).containsExactlyElementsOf(events);
        assertThat(store.read(run, 0, 100)).containsExactlyElementsOf(events);
    }

    @Test
    void should_fail_a_terminal_publish_the_store_could_not_take_and_keep_it_for_later() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        bus.publish(eventsOf(run).started(thread, question).build().get(0));
        bus.flush();
        store.failNextAppends(1);
        RunEvent done = new RunEvent.Done(run, 2, thread, Fixtures.messageId(), Usage.ZERO, null);

        // when / then
        assertThatThrownBy(() -> bus.publish(done)).isInstanceOf(StorageUnavailableException.class);
        bus.flush();
        assertThat(store.read(run, 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L);
    }

    @Test
    void should_leave_out_of_the_final_transaction_what_a_seemingly_failed_write_stored() {
        // given a bus over a chat store's own event log, whose write of run_started stored it and then failed
        ChatStore database = InMemoryAdapters.store();
        RecordingEventStore events = new RecordingEventStore(database.events());
        ChatStore chatStore = withEvents(database, events);
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(events).flushInterval(NEVER));
        events.storeThenFailNextAppend();
        bus.publish(eventsOf(run).started(thread, question).build().get(0));
        bus.flush();
        bus.publish(new RunEvent.Token(run, 2, "a"));

        // when the run ends with its work in one transaction
        String result = bus.publishWith(new RunEvent.Done(run, 3, thread, Fixtures.messageId(), Usage.ZERO, null), chatStore,
                () -> "worked");

        // then the transaction committed, and every event is stored once
        assertThat(result).isEqualTo("worked");
        assertThat(events.read(run, 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L);
        assertThat(events.batchSizes()).containsExactly(1, 2);
    }

    /** {@code database} with {@code events} as its event log. */
    private static ChatStore withEvents(ChatStore database, RunEventStore events) {
        return (ChatStore) java.lang.reflect.Proxy.newProxyInstance(ChatStore.class.getClassLoader(),
                new Class<?>[] {ChatStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("events")) {
                        return events;
                    }
                    try {
                        return method.invoke(database, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void should_end_open_subscriptions_when_the_bus_closes() throws Exception {
        // given
        StoreBackedRunEventBus bus = quietBus();
        bus.publish(eventsOf(run).started(thread, question).build().get(0));
        RunSubscription sub = bus.subscribe(run, 1);
        CountDownLatch reading = new CountDownLatch(1);
        CompletableFuture<Optional<RunEvent>> blocked = CompletableFuture.supplyAsync(() -> {
            reading.countDown();
            try {
                return sub.next(Duration.ofMinutes(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        reading.await();

        // when
        bus.close();

        // then
        assertThat(blocked.get(20, TimeUnit.SECONDS)).isEmpty();
        assertThat(sub.isFinished()).isTrue();
    }

    @Test
    void should_wake_a_reader_waiting_for_a_run_not_yet_published_when_it_starts() throws Exception {
        // given: polling so rare that only the publish itself can wake the reader in time
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(store).flushInterval(NEVER).pollInterval(NEVER));
        RunSubscription sub = bus.subscribe(run, 0);
        CountDownLatch reading = new CountDownLatch(1);
        CompletableFuture<Optional<RunEvent>> first = CompletableFuture.supplyAsync(() -> {
            reading.countDown();
            try {
                return sub.next(Duration.ofMinutes(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        reading.await();

        // when
        RunEvent started = eventsOf(run).started(thread, question).build().get(0);
        bus.publish(started);

        // then
        assertThat(first.get(20, TimeUnit.SECONDS)).contains(started);
    }

    @Test
    void should_write_batches_while_a_publisher_holds_a_transaction_of_the_store() {
        // given: a full in-memory store whose transactions hold its lock, and a busy flusher
        ChatStore chatStore = InMemoryAdapters.store();
        var chatThread = Fixtures.aThread().build();
        chatStore.threads().insert(chatThread);
        var message = chatStore.messages().append(Fixtures.aMessage().inThread(chatThread).build());
        var stored = Fixtures.aRun().onThread(chatThread).forMessage(message.id()).inProgress().build();
        chatStore.runs().insert(stored);
        StoreBackedRunEventBus bus = bus(RunEventBuses.builder(chatStore.events()).flushInterval(Duration.ofMillis(1)));
        List<RunEvent> events = eventsOf(stored.id()).started(chatThread.id(), message.id()).tokens("a")
                .done(chatThread.id(), Fixtures.messageId(), Usage.ZERO, null).build();

        // when: the background flusher writes the token while the transaction is open
        chatStore.inTransaction(() -> {
            bus.publish(events.get(0));
            bus.publish(events.get(1));
            awaitTrue(() -> chatStore.events().lastSeq(stored.id()) == 2);
            bus.publish(events.get(2));
        });

        // then
        assertThat(chatStore.events().read(stored.id(), 0, 10)).containsExactlyElementsOf(events);
    }

    @Test
    void should_wake_a_reader_of_a_run_published_elsewhere_when_the_store_hints_that_its_events_were_stored()
            throws Exception {
        // given: two servers' buses over one store; the reader's bus polls so rarely that only a hint can wake it
        ChatStore chatStore = InMemoryAdapters.store();
        StoreBackedRunEventBus writer = bus(RunEventBuses.builder(chatStore.events()).flushInterval(NEVER));
        StoreBackedRunEventBus reader = bus(RunEventBuses.builder(chatStore.events()).flushInterval(NEVER)
                .pollInterval(NEVER).signals(chatStore.signals()));
        List<RunEvent> events = eventsOf(run).started(thread, question).tokens("a", "b")
                .done(thread, Fixtures.messageId(), Usage.ZERO, null).build();
        writer.publish(events.get(0));
        writer.flush();
        RunSubscription sub = reader.subscribe(run, 0);
        assertThat(sub.next(Duration.ofSeconds(20))).contains(events.get(0));
        CompletableFuture<List<RunEvent>> rest = CompletableFuture.supplyAsync(() -> {
            try {
                return readAll(sub);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        // when
        events.subList(1, events.size()).forEach(writer::publish);

        // then
        assertThat(rest.get(20, TimeUnit.SECONDS)).containsExactlyElementsOf(events.subList(1, events.size()));
    }

    @Test
    void should_reject_a_subscription_before_seq_zero() {
        StoreBackedRunEventBus bus = quietBus();

        assertThatThrownBy(() -> bus.subscribe(run, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    private static String[] words(int n) {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            out[i] = "w" + i + " ";
        }
        return out;
    }

    private static List<RunEvent> readAll(RunSubscription sub) throws InterruptedException {
        List<RunEvent> read = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!sub.isFinished() && System.nanoTime() < deadline) {
            sub.next(Duration.ofMillis(200)).ifPresent(read::add);
        }
        assertThat(sub.isFinished()).as("subscription finished").isTrue();
        return read;
    }

    private static void awaitTrue(BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in time");
            }
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
    }

    /** A RunEventStore that records writes and can be told to fail. */
}
