package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunSubscription;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link RunEventBus}: extend it, implement {@link #createStore()} and
 * {@link #createBus(ChatStore)}. This part holds publishing (the seq rules, durability, a terminal
 * event with a transaction); the parts it extends hold the push subscription ({@link RunEventPushContract}),
 * reading through the pull form ({@link RunEventPullContract}) and the fixtures ({@link RunEventBusFixtures}).
 */
public abstract class RunEventBusContract extends RunEventPushContract {

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
}
