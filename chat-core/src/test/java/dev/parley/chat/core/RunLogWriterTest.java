package dev.parley.chat.core;

import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How the bus writes the runs' buffered events to the store ({@link RunLogWriter}): the streaming runs of a
 * flush in one append, and what a failed or refused write keeps, retries and drops.
 */
@Timeout(60)
class RunLogWriterTest {
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

    /** A bus whose background flusher never gets to run during a test. */
    private StoreBackedRunEventBus quietBus() {
        RunEventBuses.Bus bus = RunEventBuses.builder(store).flushInterval(NEVER).build();
        buses.add(bus);
        return (StoreBackedRunEventBus) bus;
    }

    @Test
    void should_write_the_waiting_events_of_every_streaming_run_in_one_append() {
        // given three runs streaming on one bus
        StoreBackedRunEventBus bus = quietBus();
        List<RunId> runs = List.of(run, Fixtures.runId(), Fixtures.runId());
        for (RunId each : runs) {
            eventsOf(each).started(Fixtures.threadId(), Fixtures.messageId()).tokens("a", "b").build().forEach(bus::publish);
        }

        // when
        bus.flush();

        // then
        assertThat(store.batchSizes()).containsExactly(9);
        runs.forEach(each -> assertThat(store.lastSeq(each)).isEqualTo(3));
    }


    @Test
    void should_write_the_other_runs_when_the_store_refuses_one_run_of_the_common_append() {
        // given two streaming runs, one of which another server already ended in the store
        StoreBackedRunEventBus bus = quietBus();
        RunId other = Fixtures.runId();
        List<RunEvent> ours = eventsOf(run).started(thread, question).tokens("a", "b").build();
        bus.publish(ours.get(0));
        bus.flush();
        ours.subList(1, 3).forEach(bus::publish);
        store.append(List.of(new RunEvent.Error(run, 2, "interrupted", "The server running this run stopped")));
        eventsOf(other).started(Fixtures.threadId(), Fixtures.messageId()).tokens("c").build().forEach(bus::publish);

        // when
        bus.flush();

        // then the other run is stored, and the ended one keeps the other server's end
        assertThat(store.read(other, 0, 10)).extracting(RunEvent::type).containsExactly("run_started", "token");
        assertThat(store.read(run, 0, 10)).extracting(RunEvent::type).containsExactly("run_started", "error");
    }


    @Test
    void should_keep_every_run_s_events_while_the_store_is_unreachable_without_a_try_per_run_and_write_them_later() {
        // given two streaming runs and a store that cannot be reached for the next flush
        StoreBackedRunEventBus bus = quietBus();
        RunId other = Fixtures.runId();
        eventsOf(run).started(thread, question).tokens("a").build().forEach(bus::publish);
        eventsOf(other).started(Fixtures.threadId(), Fixtures.messageId()).tokens("c").build().forEach(bus::publish);
        store.failNextAppends(1);

        // when
        bus.flush();

        // then one append was tried, and nothing was stored
        assertThat(store.attempts()).isEqualTo(1);
        assertThat(store.lastSeq(run)).isZero();
        assertThat(store.lastSeq(other)).isZero();

        // when the store answers again
        bus.publish(new RunEvent.Token(run, 3, "b"));
        bus.flush();

        // then everything is stored once, in one append
        assertThat(store.attempts()).isEqualTo(2);
        assertThat(store.read(run, 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L);
        assertThat(store.read(other, 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L);
    }


    @Test
    void should_keep_events_whose_write_failed_and_write_them_later() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        store.failNextAppends(1);

        // when
        bus.publish(eventsOf(run).started(thread, question).build().get(0));
        bus.publish(new RunEvent.Token(run, 2, "a"));
        bus.flush();
        assertThat(store.lastSeq(run)).isZero();
        bus.flush();

        // then
        assertThat(store.read(run, 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L);
    }


    @Test
    void should_not_store_twice_what_a_seemingly_failed_write_stored() {
        // given
        StoreBackedRunEventBus bus = quietBus();
        store.storeThenFailNextAppend();

        // when
        bus.publish(eventsOf(run).started(thread, question).build().get(0));
        bus.flush();
        bus.publish(new RunEvent.Token(run, 2, "a"));
        bus.publish(new RunEvent.Done(run, 3, thread, Fixtures.messageId(), Usage.ZERO, null));

        // then
        assertThat(store.read(run, 0, 10)).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L);
    }


    @Test
    void should_drop_its_late_events_when_another_server_already_ended_the_run_in_the_store() {
        // given: this server stored the start of a run and buffers two tokens
        StoreBackedRunEventBus bus = quietBus();
        List<RunEvent> ours = eventsOf(run).started(thread, question).tokens("a", "b").build();
        bus.publish(ours.get(0));
        bus.flush();
        ours.subList(1, 3).forEach(bus::publish);
        // and meanwhile another server ended the run in the store (this one's lease had expired)
        store.append(List.of(new RunEvent.Error(run, 2, "interrupted", "The server running this run stopped")));

        // when: the buffered tokens and a later one are written
        bus.flush();
        bus.publish(new RunEvent.Token(run, 4, "c"));
        bus.flush();

        // then: the stored log still ends with the other server's terminal event
        assertThat(store.read(run, 0, 10)).extracting(RunEvent::type).containsExactly("run_started", "error");
    }
}
