package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Contract of {@link RunEventBus}: extend it, implement {@link #createStore()} and
 * {@link #createBus(ChatStore)}. Several buses over one store stand for servers sharing a
 * database; {@link #shutDown} stands for a server stopping.
 */
@Timeout(120)
public abstract class RunEventBusContract extends StoreContractSupport {
    /** Longest a test waits for something that should happen promptly. */
    protected static final Duration PATIENCE = Duration.ofSeconds(20);

    private final List<RunEventBus> buses = new ArrayList<>();
    private long runs;
    private final ExecutorService readers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "contract-reader");
        t.setDaemon(true);
        return t;
    });

    /** The bus under test, over {@link #store}. */
    protected RunEventBus bus;
    protected ChatThread thread;
    protected Message question;

    /** A new bus over {@code store} (one server's bus). */
    protected abstract RunEventBus createBus(ChatStore sharedStore);

    /** Stops a bus as a server shutdown would, persisting what it buffered. Closes an AutoCloseable bus by default. */
    protected void shutDown(RunEventBus stopped) throws Exception {
        if (stopped instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    @BeforeEach
    void openBus() {
        bus = anotherBus();
        thread = givenThread();
        question = givenMessage(thread);
    }

    @AfterEach
    void closeBuses() throws Exception {
        readers.shutdownNow();
        for (RunEventBus b : buses) {
            shutDown(b);
        }
    }

    /** Another bus over the same store: another server. */
    protected RunEventBus anotherBus() {
        RunEventBus created = createBus(store);
        buses.add(created);
        return created;
    }

    /** A stored run to publish events of (in progress: call it once per thread). */
    protected Run givenRunningRun() {
        return givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress().createdAt(Fixtures.at(++runs)));
    }

    /** A typical run's events: started, thinking, tokens, a tool call, more tokens, done. */
    protected List<RunEvent> aRunsEvents(Run run) {
        var step = Fixtures.stepId();
        return eventsOf(run.id()).started(thread.id(), question.id()).thinking("hmm")
                .tokens("Let ", "me ", "see")
                .traceStart(step, new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}"))
                .traceUpdate(step, "working")
                .traceEnd(step, StepStatus.COMPLETED, "42", null, 7)
                .tokens("The ", "answer ", "is ", "42")
                .done(thread.id(), Fixtures.messageId(), Usage.reported(10, 8), null).build();
    }

    protected void publishAll(RunEventBus target, List<RunEvent> events) {
        events.forEach(target::publish);
    }

    /** Reads until the subscription finishes; fails after {@link #PATIENCE}. */
    protected static List<RunEvent> readToEnd(RunSubscription subscription) throws InterruptedException {
        List<RunEvent> read = new ArrayList<>();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!subscription.isFinished()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("subscription did not finish; read so far: " + read);
            }
            subscription.next(Duration.ofMillis(200)).ifPresent(read::add);
        }
        return read;
    }

    protected Future<List<RunEvent>> readInBackground(RunSubscription subscription) {
        return readers.submit(() -> readToEnd(subscription));
    }

    @Test
    void should_replay_a_finished_run_from_the_start_and_then_finish() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);

        // when
        try (RunSubscription sub = bus.subscribe(run.id(), 0)) {
            List<RunEvent> read = readToEnd(sub);

            // then
            assertThat(read).containsExactlyElementsOf(events);
            assertThat(sub.isFinished()).isTrue();
            assertThat(sub.next(Duration.ofSeconds(5))).isEmpty();
        }
    }

    @Test
    void should_replay_from_any_seq() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);

        for (int after = 0; after < events.size(); after++) {
            // when
            try (RunSubscription sub = bus.subscribe(run.id(), after)) {
                // then
                assertThat(readToEnd(sub)).containsExactlyElementsOf(events.subList(after, events.size()));
            }
        }
    }

    @Test
    void should_finish_at_once_a_subscription_opened_after_the_terminal_event() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);

        // when
        try (RunSubscription sub = bus.subscribe(run.id(), events.size())) {
            Optional<RunEvent> next = sub.next(PATIENCE);

            // then
            assertThat(next).isEmpty();
            assertThat(sub.isFinished()).isTrue();
        }
    }

    @Test
    void should_follow_a_live_run_until_its_terminal_event() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        RunSubscription sub = bus.subscribe(run.id(), 0);
        Future<List<RunEvent>> reader = readInBackground(sub);

        // when
        publishAll(bus, events);

        // then
        assertThat(reader.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).containsExactlyElementsOf(events);
    }

    @Test
    void should_give_every_subscriber_every_event_in_order() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = new ArrayList<>(eventsOf(run.id()).started(thread.id(), question.id()).build());
        for (int i = 0; i < 300; i++) {
            events.add(new RunEvent.Token(run.id(), events.size() + 1L, "t" + i + " "));
        }
        events.add(new RunEvent.Done(run.id(), events.size() + 1L, thread.id(), Fixtures.messageId(), Usage.ZERO, null));
        List<Future<List<RunEvent>>> readers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            readers.add(readInBackground(bus.subscribe(run.id(), 0)));
        }

        // when
        publishAll(bus, events.subList(0, 150));
        readers.add(readInBackground(bus.subscribe(run.id(), 0))); // joins mid-run
        readers.add(readInBackground(bus.subscribe(run.id(), 100)));
        publishAll(bus, events.subList(150, events.size()));

        // then
        for (int i = 0; i < 6; i++) {
            assertThat(readers.get(i).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).containsExactlyElementsOf(events);
        }
        assertThat(readers.get(6).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .containsExactlyElementsOf(events.subList(100, events.size()));
    }

    @Test
    @Timeout(60)
    void should_not_hold_up_publishing_for_a_subscriber_that_never_reads() throws Exception {
        // given
        Run run = givenRunningRun();
        RunSubscription idle = bus.subscribe(run.id(), 0);
        idle.next(Duration.ZERO);

        // when
        bus.publish(eventsOf(run.id()).started(thread.id(), question.id()).build().get(0));
        for (int i = 0; i < 20_000; i++) {
            bus.publish(new RunEvent.Token(run.id(), i + 2L, "x"));
        }
        bus.publish(new RunEvent.Done(run.id(), 20_002, thread.id(), Fixtures.messageId(), Usage.ZERO, null));

        // then: the idle reader still gets everything afterwards
        assertThat(bus.lastSeq(run.id())).isEqualTo(20_002);
        assertThat(readToEnd(idle)).hasSize(20_002);
        idle.close();
    }

    @Test
    void should_reject_an_event_whose_seq_is_not_the_next_one() {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);

        // when / then
        assertThatThrownBy(() -> bus.publish(events.get(1))).isInstanceOf(IllegalArgumentException.class);
        bus.publish(events.get(0));
        assertThatThrownBy(() -> bus.publish(events.get(0))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> bus.publish(events.get(2))).isInstanceOf(IllegalArgumentException.class);
        assertThat(bus.lastSeq(run.id())).isEqualTo(1);
    }

    @Test
    void should_reject_a_heartbeat() {
        Run run = givenRunningRun();

        assertThatThrownBy(() -> bus.publish(new RunEvent.Heartbeat(run.id()))).isInstanceOf(IllegalArgumentException.class);
        assertThat(bus.lastSeq(run.id())).isZero();
    }

    @Test
    void should_reject_events_after_the_terminal_one() {
        // given
        Run run = givenRunningRun();
        publishAll(bus, eventsOf(run.id()).started(thread.id(), question.id()).error("model_error", "x").build());

        // when / then
        assertThatThrownBy(() -> bus.publish(new RunEvent.Token(run.id(), 3, "late"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(bus.lastSeq(run.id())).isEqualTo(2);
    }

    @Test
    void should_report_the_last_published_seq() {
        // given
        Run run = givenRunningRun();

        // when
        publishAll(bus, eventsOf(run.id()).started(thread.id(), question.id()).tokens("a", "b").build());

        // then
        assertThat(bus.lastSeq(run.id())).isEqualTo(3);
        assertThat(bus.lastSeq(Fixtures.runId())).isZero();
    }

    @Test
    void should_have_stored_every_event_when_the_terminal_publish_returns() {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);

        // when
        publishAll(bus, events);

        // then
        assertThat(store.events().read(run.id(), 0, 1000)).containsExactlyElementsOf(events);
    }

    @Test
    void should_store_a_terminal_event_published_with_a_transaction_together_with_its_work() throws Exception {
        // given a run that published everything but its end
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        RunEvent done = events.get(events.size() - 1);
        publishAll(bus, events.subList(0, events.size() - 1));
        Future<List<RunEvent>> reader = readInBackground(bus.subscribe(run.id(), 0));
        Run completed = run.completed(Fixtures.at(100), null, Usage.ZERO, null);

        // when
        long seqSeenInside = bus.publishWith(done, store, () -> {
            assertThat(store.runs().update(completed, RunStatus.IN_PROGRESS)).isTrue();
            return bus.lastSeq(run.id());
        });

        // then: not published before the transaction ended; stored with the work's changes
        assertThat(seqSeenInside).isEqualTo(done.seq() - 1);
        assertThat(store.runs().find(run.id())).contains(completed);
        assertThat(store.events().read(run.id(), 0, 1000)).containsExactlyElementsOf(events);
        assertThat(bus.lastSeq(run.id())).isEqualTo(done.seq());
        assertThat(reader.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).containsExactlyElementsOf(events);
    }

    @Test
    void should_publish_nothing_when_the_work_of_a_terminal_event_fails() throws Exception {
        // given a run that published everything but its end
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        RunEvent done = events.get(events.size() - 1);
        publishAll(bus, events.subList(0, events.size() - 1));
        Run completed = run.completed(Fixtures.at(100), null, Usage.ZERO, null);

        // when
        assertThatThrownBy(() -> bus.publishWith(done, store, () -> {
            store.runs().update(completed, RunStatus.IN_PROGRESS);
            throw new IllegalStateException("the work failed");
        })).isInstanceOf(IllegalStateException.class).hasMessage("the work failed");

        // then: neither the work nor the event took effect; the run can still end
        assertThat(store.runs().find(run.id())).contains(run);
        assertThat(bus.lastSeq(run.id())).isEqualTo(done.seq() - 1);
        assertThat(store.events().read(run.id(), 0, 1000)).extracting(RunEvent::type).doesNotContain(done.type());
        bus.publish(done);
        assertThat(store.events().read(run.id(), 0, 1000)).containsExactlyElementsOf(events);
        try (RunSubscription sub = bus.subscribe(run.id(), 0)) {
            assertThat(readToEnd(sub)).containsExactlyElementsOf(events);
        }
    }

    @Test
    void should_reject_a_transaction_with_an_event_that_does_not_end_the_run() {
        // given
        Run run = givenRunningRun();
        RunEvent started = aRunsEvents(run).get(0);

        // when / then
        assertThatThrownBy(() -> bus.publishWith(started, store, () -> null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(bus.lastSeq(run.id())).isZero();
    }

    @Test
    void should_return_empty_when_no_event_arrives_in_time() throws Exception {
        // given
        Run run = givenRunningRun();
        bus.publish(eventsOf(run.id()).started(thread.id(), question.id()).build().get(0));

        try (RunSubscription sub = bus.subscribe(run.id(), 1)) {
            // when
            Optional<RunEvent> next = sub.next(Duration.ofMillis(50));

            // then
            assertThat(next).isEmpty();
            assertThat(sub.isFinished()).isFalse();
        }
    }

    @Test
    void should_wake_a_blocked_reader_when_its_subscription_is_closed() throws Exception {
        // given
        Run run = givenRunningRun();
        RunSubscription sub = bus.subscribe(run.id(), 0);
        CountDownLatch reading = new CountDownLatch(1);
        Future<Optional<RunEvent>> blocked = readers.submit(() -> {
            reading.countDown();
            return sub.next(Duration.ofMinutes(10));
        });
        reading.await();

        // when
        sub.close();

        // then
        assertThat(blocked.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEmpty();
        assertThat(sub.isFinished()).isTrue();
        assertThat(sub.next(Duration.ofSeconds(5))).isEmpty();
        sub.close();
    }

    @Test
    void should_wake_a_reader_of_an_unknown_run_when_closed() throws Exception {
        // given
        RunSubscription sub = bus.subscribe(Fixtures.runId(), 0);
        CountDownLatch reading = new CountDownLatch(1);
        Future<Optional<RunEvent>> blocked = readers.submit(() -> {
            reading.countDown();
            return sub.next(Duration.ofMinutes(10));
        });
        reading.await();

        // when
        sub.close();

        // then
        assertThat(blocked.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEmpty();
    }

    @Test
    void should_replay_a_finished_run_on_a_new_bus_after_a_restart() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);
        shutDown(bus);

        // when
        RunEventBus restarted = anotherBus();

        // then
        assertThat(restarted.lastSeq(run.id())).isEqualTo(events.size());
        try (RunSubscription sub = restarted.subscribe(run.id(), 3)) {
            assertThat(readToEnd(sub)).containsExactlyElementsOf(events.subList(3, events.size()));
        }
    }

    @Test
    void should_continue_a_run_on_a_new_bus_after_a_restart() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events.subList(0, 5));
        shutDown(bus);
        RunEventBus restarted = anotherBus();

        // when
        publishAll(restarted, events.subList(5, events.size()));

        // then
        try (RunSubscription sub = restarted.subscribe(run.id(), 0)) {
            assertThat(readToEnd(sub)).containsExactlyElementsOf(events);
        }
    }

    @Test
    void should_follow_a_run_published_on_another_bus_sharing_the_store() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        RunEventBus otherServer = anotherBus();
        Future<List<RunEvent>> reader = readInBackground(otherServer.subscribe(run.id(), 0));

        // when
        publishAll(bus, events);

        // then
        assertThat(reader.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).containsExactlyElementsOf(events);
    }

    @Test
    void should_carry_unicode_and_long_tokens_unchanged() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = eventsOf(run.id()).started(thread.id(), question.id())
                .tokens(Fixtures.EMOJI, Fixtures.RTL, Fixtures.COMBINING, Fixtures.longText(32_000))
                .done(thread.id(), Fixtures.messageId(), Usage.ZERO, null).build();

        // when
        publishAll(bus, events);

        // then
        try (RunSubscription sub = anotherBus().subscribe(run.id(), 0)) {
            assertThat(readToEnd(sub)).containsExactlyElementsOf(events);
        }
    }

    @Test
    void should_keep_runs_apart() throws Exception {
        // given
        Run first = givenRunningRun();
        ChatThread otherThread = givenThread();
        Message otherQuestion = givenMessage(otherThread);
        Run second = givenRun(aRun().onThread(otherThread).forMessage(otherQuestion.id()).inProgress());
        List<RunEvent> a = eventsOf(first.id()).tokens("a1", "a2").cancelled(null).build();
        List<RunEvent> b = eventsOf(second.id()).tokens("b1").error("model_error", "x").build();

        // when
        bus.publish(a.get(0));
        bus.publish(b.get(0));
        bus.publish(a.get(1));
        bus.publish(b.get(1));
        bus.publish(a.get(2));

        // then
        try (RunSubscription sa = bus.subscribe(first.id(), 0); RunSubscription sb = bus.subscribe(second.id(), 0)) {
            assertThat(readToEnd(sa)).containsExactlyElementsOf(a);
            assertThat(readToEnd(sb)).containsExactlyElementsOf(b);
        }
    }
}
