package dev.parley.chat.core;

import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The bus keeps finished runs' logs in memory up to a number of events, dropping the oldest first. */
@Timeout(60)
class FinishedLogBudgetTest {
    private static final Duration NEVER = Duration.ofHours(1);

    private final RecordingEventStore store = new RecordingEventStore(InMemoryAdapters.runEventStore());
    private final List<RunEventBuses.Bus> buses = new ArrayList<>();

    @AfterEach
    void closeBuses() {
        buses.forEach(RunEventBuses.Bus::close);
    }

    /** A bus whose flusher never runs during a test and whose grace for finished runs is an hour. */
    private StoreBackedRunEventBus bus(long maxFinishedEvents) {
        RunEventBuses.Bus bus = RunEventBuses.builder(store).flushInterval(NEVER).evictFinishedAfter(NEVER)
                .maxFinishedEvents(maxFinishedEvents).build();
        buses.add(bus);
        return (StoreBackedRunEventBus) bus;
    }

    /** A finished run of four events: started, two tokens, done. */
    private static List<RunEvent> finishedRun(RunId run) {
        return eventsOf(run).started(Fixtures.threadId(), Fixtures.messageId()).tokens("a", "b")
                .done(Fixtures.threadId(), Fixtures.messageId(), Usage.ZERO, null).build();
    }

    /** Four runs finished on {@code bus}, one after the other: 16 events. */
    private static List<RunId> fourFinishedRuns(StoreBackedRunEventBus bus) {
        List<RunId> runs = List.of(Fixtures.runId(), Fixtures.runId(), Fixtures.runId(), Fixtures.runId());
        runs.forEach(run -> finishedRun(run).forEach(bus::publish));
        return runs;
    }

    @Test
    void should_drop_the_runs_that_finished_first_once_finished_logs_hold_more_events_than_allowed() {
        // given: four finished runs of four events each, ten events allowed
        StoreBackedRunEventBus bus = bus(10);
        List<RunId> runs = fourFinishedRuns(bus);

        // when
        bus.evictOverBudget();

        // then: the first two went (16 -> 12 -> 8 events), the last two stay within their grace
        assertThat(runs).map(bus::holdsInMemory).containsExactly(false, false, true, true);
    }

    @Test
    void should_keep_every_finished_log_within_the_budget_until_its_grace_ends() {
        // given
        StoreBackedRunEventBus bus = bus(16);
        List<RunId> runs = fourFinishedRuns(bus);

        // when
        bus.evictOverBudget();

        // then
        assertThat(runs).allMatch(bus::holdsInMemory);
    }

    @Test
    void should_replay_a_run_dropped_for_the_budget_from_the_store() throws Exception {
        // given
        StoreBackedRunEventBus bus = bus(0);
        RunId run = Fixtures.runId();
        List<RunEvent> events = finishedRun(run);
        events.forEach(bus::publish);
        bus.evictOverBudget();
        int readsBefore = store.reads();

        // when
        List<RunEvent> replayed = new ArrayList<>();
        try (RunSubscription sub = bus.subscribe(run, 0)) {
            while (!sub.isFinished()) {
                sub.next(Duration.ofSeconds(5)).ifPresent(replayed::add);
            }
        }

        // then
        assertThat(bus.holdsInMemory(run)).isFalse();
        assertThat(replayed).containsExactlyElementsOf(events);
        assertThat(store.reads()).isGreaterThan(readsBefore);
    }

    @Test
    void should_not_count_runs_already_dropped_after_their_grace_against_the_budget() {
        // given: a run dropped by its grace period while in the queue of finished logs
        StoreBackedRunEventBus bus = bus(8);
        RunId old = Fixtures.runId();
        finishedRun(old).forEach(bus::publish);
        bus.evictExpired(System.nanoTime() + Duration.ofHours(2).toNanos());
        RunId first = Fixtures.runId();
        RunId second = Fixtures.runId();
        finishedRun(first).forEach(bus::publish);
        finishedRun(second).forEach(bus::publish);

        // when
        bus.evictOverBudget();

        // then: 12 events counted, of which the gone run's 4: the two live runs fit in 8
        assertThat(bus.holdsInMemory(old)).isFalse();
        assertThat(bus.holdsInMemory(first)).isTrue();
        assertThat(bus.holdsInMemory(second)).isTrue();
    }

    @Test
    void should_drop_the_finished_runs_whose_grace_ended_and_keep_those_that_finished_later() throws Exception {
        // given: a grace of a second, and a run that finished 100 ms after the first
        RunEventBuses.Bus built = RunEventBuses.builder(store).flushInterval(NEVER).evictFinishedAfter(Duration.ofSeconds(1)).build();
        buses.add(built);
        StoreBackedRunEventBus bus = (StoreBackedRunEventBus) built;
        RunId first = Fixtures.runId();
        RunId later = Fixtures.runId();
        finishedRun(first).forEach(bus::publish);
        long afterFirst = System.nanoTime();
        Thread.sleep(100);
        finishedRun(later).forEach(bus::publish);

        // when: 1.05 s after the first ended, 0.95 s or less after the later one did
        bus.evictExpired(afterFirst + Duration.ofMillis(1_050).toNanos());

        // then
        assertThat(bus.holdsInMemory(first)).isFalse();
        assertThat(bus.holdsInMemory(later)).isTrue();
    }

    @Test
    void should_keep_a_finished_log_whose_events_the_store_has_not_taken_yet_and_drop_it_once_stored() {
        // given: the terminal write fails, so the run's events wait in memory for the next try
        StoreBackedRunEventBus bus = bus(0);
        RunId run = Fixtures.runId();
        List<RunEvent> events = finishedRun(run);
        events.subList(0, 3).forEach(bus::publish);
        store.failNextAppends(1);
        assertThatThrownBy(() -> bus.publish(events.get(3))).isInstanceOf(StorageUnavailableException.class);

        // when
        bus.evictOverBudget();
        boolean keptUnstored = bus.holdsInMemory(run);
        bus.flush();
        bus.evictOverBudget();

        // then
        assertThat(keptUnstored).isTrue();
        assertThat(store.lastSeq(run)).isEqualTo(4);
        assertThat(bus.holdsInMemory(run)).isFalse();
    }
}
