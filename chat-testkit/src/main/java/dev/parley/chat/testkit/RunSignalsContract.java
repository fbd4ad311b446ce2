package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.at;
import static dev.parley.chat.testkit.Fixtures.eventsOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.RunSignals;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.ChatStore#signals()} for a store that gives hints
 * (not {@link RunSignals#none()}): changes committed through the store after a listener was
 * registered reach it while the store is reachable. Extend it and implement {@link #createStore()}.
 */
public abstract class RunSignalsContract extends RunContractSupport {
    /** How long a hint may take; generous, as hints of a shared store cross a network. */
    protected static final Duration HINT_DEADLINE = Duration.ofSeconds(10);

    private final List<RunSignals.Registration> registrations = new ArrayList<>();

    @AfterEach
    void closeRegistrations() {
        registrations.forEach(RunSignals.Registration::close);
    }

    @Test
    void should_hint_that_a_run_ended_when_its_status_is_updated_to_a_terminal_one() throws Exception {
        // given
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress());
        BlockingQueue<RunId> changed = listenToRunChanges();

        // when
        store.runs().update(run.cancelled(at(10), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // then
        assertThat(awaitHint(changed, run.id()::equals)).isTrue();
    }

    @Test
    void should_hint_that_a_run_ended_when_its_expired_lease_is_ended() throws Exception {
        // given
        Run queued = givenRun(aRun().onThread(thread).forMessage(question.id()));
        Run started = queued.started(at(1));
        store.runs().start(started, "server-a", at(100));
        BlockingQueue<RunId> changed = listenToRunChanges();

        // when
        store.runs().updateIfLeaseExpired(started.cancelled(at(200), null, Usage.ZERO, null), at(200));

        // then
        assertThat(awaitHint(changed, queued.id()::equals)).isTrue();
    }

    @Test
    void should_hint_that_a_queued_run_ended_when_it_is_cancelled() throws Exception {
        // given
        Run queued = givenRun(aRun().onThread(thread).forMessage(question.id()));
        BlockingQueue<RunId> changed = listenToRunChanges();

        // when
        store.runs().update(queued.cancelled(at(5), null, Usage.ZERO, null), RunStatus.QUEUED);

        // then
        assertThat(awaitHint(changed, queued.id()::equals)).isTrue();
    }

    @Test
    void should_hint_after_the_transaction_commits_so_that_the_listener_reads_the_change() throws Exception {
        // given
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress());
        BlockingQueue<RunStatus> seen = new LinkedBlockingQueue<>();
        registrations.add(store.signals().onRunChanged(id -> {
            if (id.equals(run.id())) {
                seen.add(store.runs().find(id).map(Run::status).orElseThrow());
            }
        }));

        // when
        store.inTransaction(() -> {
            store.runs().update(run.cancelled(at(10), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);
            store.messages().append(Fixtures.aMessage().inThread(thread).withText("after the cancel").build());
        });

        // then
        assertThat(seen.poll(HINT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(RunStatus.CANCELLED);
    }

    @Test
    void should_hint_that_events_of_a_run_were_stored() throws Exception {
        // given
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress());
        BlockingQueue<RunId> stored = new LinkedBlockingQueue<>();
        registrations.add(store.signals().onEventsStored(stored::add));

        // when
        store.events().append(eventsOf(run.id()).started(thread.id(), question.id()).tokens("Hel", "lo").build());

        // then
        assertThat(awaitHint(stored, run.id()::equals)).isTrue();
    }

    @Test
    void should_stop_hinting_a_listener_whose_registration_was_closed() throws Exception {
        // given
        Run run = givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress());
        BlockingQueue<RunId> closed = new LinkedBlockingQueue<>();
        store.signals().onRunChanged(closed::add).close();
        BlockingQueue<RunId> open = listenToRunChanges();

        // when
        store.runs().update(run.cancelled(at(10), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // then: the open listener hears it, the closed one did not (hints reach listeners in turn)
        assertThat(awaitHint(open, run.id()::equals)).isTrue();
        assertThat(closed).doesNotContain(run.id());
    }

    private BlockingQueue<RunId> listenToRunChanges() {
        BlockingQueue<RunId> queue = new LinkedBlockingQueue<>();
        registrations.add(store.signals().onRunChanged(queue::add));
        return queue;
    }

    /** Waits for a hint that matches; other hints (other runs, other tests' stores) are skipped. */
    private static boolean awaitHint(BlockingQueue<RunId> hints, Predicate<RunId> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + HINT_DEADLINE.toNanos();
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            RunId hint = hints.poll(remaining, TimeUnit.NANOSECONDS);
            if (hint != null && wanted.test(hint)) {
                return true;
            }
        }
        return false;
    }
}
