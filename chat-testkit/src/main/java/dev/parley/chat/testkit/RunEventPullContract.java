package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The reading part of {@link RunEventBusContract}: a run's events read back through the pull form of
 * a subscription ({@link RunEventBus#subscribe(dev.parley.chat.model.RunId, long)}), replayed, live, from
 * another bus over the same store, after a restart.
 */
public abstract class RunEventPullContract extends RunEventBusFixtures {

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
