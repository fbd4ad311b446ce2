package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.Subscription;
import dev.parley.chat.port.out.RunEventBus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The push part of {@link RunEventBusContract}: a run's events handed to a sink
 * ({@link RunEventBus#subscribe(dev.parley.chat.model.RunId, long, dev.parley.chat.port.in.RunEventSink)}) in
 * seq order, once each, one call at a time, catch-up then live, ended by the terminal event or a
 * close, and a slow sink that holds up neither the run nor the other subscribers.
 */
public abstract class RunEventPushContract extends RunEventPullContract {

    /** A run's events: started, {@code tokens} tokens, done. */
    protected List<RunEvent> aLongRun(Run run, int tokens) {
        List<RunEvent> events = new ArrayList<>(eventsOf(run.id()).started(thread.id(), question.id()).build());
        for (int i = 0; i < tokens; i++) {
            events.add(new RunEvent.Token(run.id(), events.size() + 1L, "t" + i + " "));
        }
        events.add(new RunEvent.Done(run.id(), events.size() + 1L, thread.id(), Fixtures.messageId(), Usage.ZERO, null));
        return events;
    }

    @Test
    void should_push_a_finished_run_in_seq_order_and_end_after_its_terminal_event() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);
        RecordingSink sink = new RecordingSink(0);

        // when
        bus.subscribe(run.id(), 0, sink);

        // then
        assertThat(sink.awaitEnd(PATIENCE)).isEmpty();
        assertThat(sink.events()).containsExactlyElementsOf(events);
        assertThat(sink.violations()).isEmpty();
    }

    @Test
    void should_push_from_any_seq_and_end_at_once_after_the_terminal_event() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);

        for (int after = 0; after <= events.size(); after++) {
            // when
            RecordingSink sink = new RecordingSink(after);
            bus.subscribe(run.id(), after, sink);

            // then
            assertThat(sink.awaitEnd(PATIENCE)).isEmpty();
            assertThat(sink.events()).containsExactlyElementsOf(events.subList(after, events.size()));
            assertThat(sink.violations()).isEmpty();
        }
    }

    @Test
    void should_hand_over_the_log_then_the_live_events_with_no_gap_or_duplicate_at_the_boundary() throws Exception {
        // given a run publishing on a thread of its own
        Run run = givenRunningRun();
        List<RunEvent> events = aLongRun(run, 2_000);
        CountDownLatch halfway = new CountDownLatch(1);
        Future<?> publisher = readers.submit(() -> {
            for (RunEvent event : events) {
                bus.publish(event);
                if (event.seq() == events.size() / 2) {
                    halfway.countDown();
                }
            }
            return null;
        });

        // when subscribers join while it publishes, from the start and from the middle of what is published
        List<RecordingSink> sinks = new ArrayList<>();
        List<Long> opened = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            if (i == 6) {
                assertThat(halfway.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            }
            long after = i % 2 == 0 ? 0 : bus.lastSeq(run.id());
            RecordingSink sink = new RecordingSink(after);
            bus.subscribe(run.id(), after, sink);
            sinks.add(sink);
            opened.add(after);
        }
        publisher.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);

        // then every one got exactly the events after its seq, in order, one call at a time
        for (int i = 0; i < sinks.size(); i++) {
            RecordingSink sink = sinks.get(i);
            assertThat(sink.awaitEnd(PATIENCE)).isEmpty();
            assertThat(sink.violations()).isEmpty();
            assertThat(sink.events()).containsExactlyElementsOf(events.subList(opened.get(i).intValue(), events.size()));
        }
    }

    @Test
    void should_tell_the_sink_it_caught_up_with_a_run_that_has_nothing_new_and_stay_open() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events.subList(0, 3));
        RecordingSink sink = new RecordingSink(3);

        // when
        Subscription subscription = bus.subscribe(run.id(), 3, sink);
        sink.awaitCaughtUp(PATIENCE);

        // then
        assertThat(sink.events()).isEmpty();
        assertThat(sink.isEnded()).isFalse();
        publishAll(bus, events.subList(3, events.size()));
        assertThat(sink.awaitEnd(PATIENCE)).isEmpty();
        assertThat(sink.events()).containsExactlyElementsOf(events.subList(3, events.size()));
        subscription.close(); // after the end: nothing more happens
        assertThat(sink.violations()).isEmpty();
    }

    @Test
    void should_stop_delivering_once_closed_and_end_the_subscription() throws Exception {
        // given a live run whose first events were delivered
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events.subList(0, 3));
        RecordingSink closed = new RecordingSink(0);
        Subscription subscription = bus.subscribe(run.id(), 0, closed);
        closed.awaitEvents(3, PATIENCE);

        // when
        subscription.close();

        // then
        assertThat(closed.awaitEnd(PATIENCE)).isEmpty();
        RecordingSink witness = new RecordingSink(0);
        bus.subscribe(run.id(), 0, witness);
        publishAll(bus, events.subList(3, events.size()));
        witness.awaitEnd(PATIENCE);
        assertThat(closed.events()).containsExactlyElementsOf(events.subList(0, 3));
        assertThat(closed.violations()).isEmpty();
        subscription.close();
    }

    @Test
    void should_stop_at_the_event_during_which_the_sink_closed_its_subscription() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);
        AtomicReference<Subscription> own = new AtomicReference<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        RecordingSink sink = new RecordingSink(0) {
            @Override
            void received(RunEvent event) throws InterruptedException {
                if (event.seq() == 2) {
                    subscribed.await();
                    own.get().close();
                }
            }
        };

        // when
        own.set(bus.subscribe(run.id(), 0, sink));
        subscribed.countDown();

        // then
        assertThat(sink.awaitEnd(PATIENCE)).isEmpty();
        assertThat(sink.events()).containsExactlyElementsOf(events.subList(0, 2));
        assertThat(sink.violations()).isEmpty();
    }

    @Test
    void should_end_the_subscription_with_what_the_sink_threw() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events);
        IllegalStateException gone = new IllegalStateException("the client went away");
        RecordingSink sink = new RecordingSink(0) {
            @Override
            void received(RunEvent event) {
                if (event.seq() == 2) {
                    throw gone;
                }
            }
        };

        // when
        bus.subscribe(run.id(), 0, sink);

        // then
        assertThat(sink.awaitEnd(PATIENCE)).containsSame(gone);
        assertThat(sink.events()).containsExactlyElementsOf(events.subList(0, 2));
        assertThat(sink.violations()).isEmpty();
    }

    @Test
    void should_hold_up_neither_the_run_nor_other_subscribers_for_a_sink_that_blocks() throws Exception {
        // given a sink that blocks in its first event, and one that does not
        Run run = givenRunningRun();
        List<RunEvent> events = aLongRun(run, 5_000);
        CountDownLatch release = new CountDownLatch(1);
        RecordingSink slow = new RecordingSink(0) {
            @Override
            void received(RunEvent event) throws InterruptedException {
                if (event.seq() == 1) {
                    release.await();
                }
            }
        };
        RecordingSink fast = new RecordingSink(0);
        bus.subscribe(run.id(), 0, slow);
        bus.subscribe(run.id(), 0, fast);

        // when the run publishes everything on this thread while the slow sink blocks
        publishAll(bus, events);

        // then the fast subscriber got all of it meanwhile, and the slow one catches up once it goes on
        assertThat(fast.awaitEnd(PATIENCE)).isEmpty();
        assertThat(fast.events()).containsExactlyElementsOf(events);
        assertThat(slow.isEnded()).isFalse();
        release.countDown();
        assertThat(slow.awaitEnd(PATIENCE)).isEmpty();
        assertThat(slow.events()).containsExactlyElementsOf(events);
        assertThat(slow.violations()).isEmpty();
        assertThat(fast.violations()).isEmpty();
    }

    @Test
    void should_push_the_events_of_a_run_published_by_another_bus_sharing_the_store() throws Exception {
        // given a subscriber on another server, before and after the run published some of its events
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        RunEventBus otherServer = anotherBus();
        RecordingSink early = new RecordingSink(0);
        otherServer.subscribe(run.id(), 0, early);
        publishAll(bus, events.subList(0, 4));
        RecordingSink late = new RecordingSink(2);
        otherServer.subscribe(run.id(), 2, late);

        // when
        publishAll(bus, events.subList(4, events.size()));

        // then
        assertThat(early.awaitEnd(PATIENCE)).isEmpty();
        assertThat(late.awaitEnd(PATIENCE)).isEmpty();
        assertThat(early.events()).containsExactlyElementsOf(events);
        assertThat(late.events()).containsExactlyElementsOf(events.subList(2, events.size()));
        assertThat(early.violations()).isEmpty();
        assertThat(late.violations()).isEmpty();
    }

    @Test
    void should_end_its_open_subscriptions_when_the_bus_shuts_down() throws Exception {
        // given
        Run run = givenRunningRun();
        List<RunEvent> events = aRunsEvents(run);
        publishAll(bus, events.subList(0, 2));
        RecordingSink sink = new RecordingSink(0);
        bus.subscribe(run.id(), 0, sink);
        sink.awaitEvents(2, PATIENCE);

        // when
        shutDown(bus);

        // then
        Optional<Throwable> end = sink.awaitEnd(PATIENCE);
        assertThat(end).isEmpty();
        assertThat(sink.events()).containsExactlyElementsOf(events.subList(0, 2));
        assertThat(sink.violations()).isEmpty();
    }
}
