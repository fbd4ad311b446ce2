package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.Usage;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.RunStore}'s leases (which server executes a run in progress,
 * and until when): extend it and implement {@link #createStore()}.
 */
public abstract class RunLeaseContract extends RunContractSupport {
    private static final String SERVER_A = "server-a";
    private static final String SERVER_B = "server-b";

    @Test
    void should_start_a_queued_run_under_a_lease_that_expires_when_it_says() {
        // given
        Run queued = givenRun(aRunHere());
        Run started = queued.started(at(10));

        // when
        boolean won = store.runs().start(started, SERVER_A, at(1_000));

        // then
        assertThat(won).isTrue();
        assertThat(store.runs().find(queued.id())).contains(started);
        assertThat(store.runs().expiredLeases(at(999), 10)).isEmpty();
        assertThat(store.runs().expiredLeases(at(1_000), 10)).containsExactly(started);
    }

    @Test
    void should_insert_a_run_started_at_once_under_its_lease() {
        // given
        Run started = aRunHere().build().started(at(10));

        // when
        store.runs().insertStarted(started, SERVER_A, at(1_000));

        // then
        assertThat(store.runs().find(started.id())).contains(started);
        assertThat(store.runs().active(started.threadId())).containsExactly(started);
        assertThat(store.runs().expiredLeases(at(999), 10)).isEmpty();
        assertThat(store.runs().expiredLeases(at(1_000), 10)).containsExactly(started);
        assertThat(store.runs().renewLease(started.id(), SERVER_B, at(5_000))).isFalse();
        assertThat(store.runs().renewLease(started.id(), SERVER_A, at(5_000))).isTrue();
    }

    @Test
    void should_refuse_to_insert_a_started_run_beside_one_in_progress() {
        // given
        Run first = givenRun(aRunHere());
        store.runs().start(first.started(at(2)), SERVER_A, at(1_000));
        Run second = aRunHere().createdAt(at(3)).build().started(at(3));

        // when / then
        assertThatThrownBy(() -> store.runs().insertStarted(second, SERVER_B, at(1_000)))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(store.runs().find(second.id())).isEmpty();
    }

    @Test
    void should_insert_a_started_run_with_its_record_and_first_step_in_one_call() {
        // given
        Run started = aRunHere().build().withAgentVersion(2).started(at(10));
        Step first = Step.messageCreation(Fixtures.stepId(), started.id(), 1, at(10));
        RunOrigin origin = new RunOrigin("req_1", null);

        // when
        store.runs().insertStarted(started, SERVER_A, at(1_000), new RunInstructions(2, "Be brief"), origin, first);

        // then
        assertThat(store.runs().find(started.id())).contains(started);
        assertThat(store.runs().instructions(started.id())).contains(new RunInstructions(2, "Be brief"));
        assertThat(store.runs().origin(started.id())).isEqualTo(origin);
        assertThat(store.runs().steps(started.id())).containsExactly(first);
        assertThat(store.runs().expiredLeases(at(1_000), 10)).containsExactly(started);
    }

    @Test
    void should_store_neither_the_run_nor_its_first_step_beside_a_run_in_progress() {
        // given
        store.runs().insertStarted(aRunHere().createdAt(at(2)).build().started(at(2)), SERVER_A, at(1_000));
        Run second = aRunHere().createdAt(at(3)).build().started(at(3));
        Step first = Step.messageCreation(Fixtures.stepId(), second.id(), 1, at(3));

        // when / then
        assertThatThrownBy(() -> store.runs().insertStarted(second, SERVER_B, at(1_000), new RunInstructions(1, ""), RunOrigin.NONE, first))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(store.runs().find(second.id())).isEmpty();
        assertThat(store.runs().steps(second.id())).isEmpty();
    }

    @Test
    void should_refuse_a_first_step_of_another_run() {
        // given
        Run started = aRunHere().build().started(at(10));
        Step elsewhere = Step.messageCreation(Fixtures.stepId(), Fixtures.runId(), 1, at(10));

        // when / then
        assertThatThrownBy(() -> store.runs().insertStarted(started, SERVER_A, at(1_000), new RunInstructions(1, ""), RunOrigin.NONE,
                elsewhere)).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.runs().find(started.id())).isEmpty();
    }

    @Test
    void should_refuse_to_start_a_run_that_is_no_longer_queued() {
        // given
        Run queued = givenRun(aRunHere());
        store.runs().update(queued.cancelled(at(5), null, Usage.ZERO, null), RunStatus.QUEUED);

        // when
        boolean won = store.runs().start(queued.started(at(10)), SERVER_A, at(1_000));

        // then
        assertThat(won).isFalse();
        assertThat(store.runs().find(queued.id()).orElseThrow().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(store.runs().expiredLeases(at(5_000), 10)).isEmpty();
    }

    @Test
    void should_refuse_to_start_a_second_run_in_progress_on_a_thread_with_a_lease() {
        // given
        Run first = givenRun(aRunHere());
        Run second = givenRun(aRunHere().createdAt(at(1)));
        store.runs().start(first.started(at(2)), SERVER_A, at(1_000));

        // when / then
        assertThatThrownBy(() -> store.runs().start(second.started(at(3)), SERVER_B, at(1_000)))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(store.runs().find(second.id())).contains(second);
    }

    @Test
    void should_let_exactly_one_of_racing_servers_start_a_run() {
        // given
        Run queued = givenRun(aRunHere());

        // when
        List<Object> results = race(8, i -> store.runs().start(queued.started(at(10 + i)), "server-" + i, at(1_000)));

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(Boolean.FALSE::equals).hasSize(7);
    }

    @Test
    void should_renew_a_lease_for_its_owner_only() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(1_000));

        // when
        boolean byOther = store.runs().renewLease(started.id(), SERVER_B, at(5_000));
        boolean byOwner = store.runs().renewLease(started.id(), SERVER_A, at(3_000));

        // then
        assertThat(byOther).isFalse();
        assertThat(byOwner).isTrue();
        assertThat(store.runs().expiredLeases(at(2_999), 10)).isEmpty();
        assertThat(store.runs().expiredLeases(at(3_000), 10)).containsExactly(started);
    }

    @Test
    void should_tell_when_a_runs_lease_expires_and_keep_it_after_the_run_ended() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(1_000));
        Run queued = givenRun(aRunHere());
        store.runs().renewLease(started.id(), SERVER_A, at(4_000));

        // when
        Optional<Instant> whileRunning = store.runs().leaseExpiresAt(started.id());
        store.runs().update(started.cancelled(at(50), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // then
        assertThat(whileRunning).contains(at(4_000));
        assertThat(store.runs().leaseExpiresAt(started.id())).contains(at(4_000));
        assertThat(store.runs().leaseExpiresAt(queued.id())).as("never held under a lease").isEmpty();
        assertThat(store.runs().leaseExpiresAt(RunId.next(IdGenerator.timeOrdered()))).as("missing").isEmpty();
    }

    @Test
    void should_renew_a_lease_that_already_expired_while_nobody_ended_the_run() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(1_000));

        // when
        boolean renewed = store.runs().renewLease(started.id(), SERVER_A, at(9_000));

        // then
        assertThat(renewed).isTrue();
        assertThat(store.runs().expiredLeases(at(5_000), 10)).isEmpty();
    }

    @Test
    void should_not_renew_the_lease_of_a_run_that_ended_or_does_not_exist() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(1_000));
        store.runs().update(started.cancelled(at(20), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // when / then
        assertThat(store.runs().renewLease(started.id(), SERVER_A, at(2_000))).isFalse();
        assertThat(store.runs().renewLease(Fixtures.runId(), SERVER_A, at(2_000))).isFalse();
    }

    @Test
    void should_list_expired_leases_soonest_first_up_to_max_and_only_of_runs_in_progress() {
        // given runs on three threads, expiring at 300, 100 and 200, and a queued run
        Run late = queuedThenStarted(SERVER_A, at(300));
        Run early = givenRunStartedOnNewThread(SERVER_B, at(100));
        Run middle = givenRunStartedOnNewThread(SERVER_A, at(200));
        givenRun(aRunHere().createdAt(at(50)));

        // when / then
        assertThat(store.runs().expiredLeases(at(1_000), 10)).containsExactly(early, middle, late);
        assertThat(store.runs().expiredLeases(at(1_000), 2)).containsExactly(early, middle);
        assertThat(store.runs().expiredLeases(at(250), 10)).containsExactly(early, middle);
        assertThat(store.runs().expiredLeases(at(99), 10)).isEmpty();
    }

    @Test
    void should_count_a_run_in_progress_without_a_lease_as_expired() {
        // given
        Run noLease = givenRun(aRunHere().inProgress());

        // when / then
        assertThat(store.runs().expiredLeases(at(0), 10)).containsExactly(noLease);
    }

    @Test
    void should_not_list_expired_leases_of_a_soft_deleted_thread() {
        // given
        queuedThenStarted(SERVER_A, at(100));
        store.threads().softDelete(thread.id(), at(50));

        // when / then
        assertThat(store.runs().expiredLeases(at(1_000), 10)).isEmpty();
    }

    @Test
    void should_end_a_run_whose_lease_expired() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(100));
        Run failed = started.failed(at(200), new RunError("interrupted", "The server stopped"), null, Usage.ZERO, null);

        // when
        boolean ended = store.runs().updateIfLeaseExpired(failed, at(200));

        // then
        assertThat(ended).isTrue();
        assertThat(store.runs().find(started.id())).contains(failed);
        assertThat(store.runs().expiredLeases(at(1_000), 10)).isEmpty();
    }

    @Test
    void should_not_end_a_run_whose_lease_was_renewed() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(100));
        store.runs().renewLease(started.id(), SERVER_A, at(500));
        Run failed = started.failed(at(200), new RunError("interrupted", "The server stopped"), null, Usage.ZERO, null);

        // when
        boolean ended = store.runs().updateIfLeaseExpired(failed, at(200));

        // then
        assertThat(ended).isFalse();
        assertThat(store.runs().find(started.id())).contains(started);
    }

    @Test
    void should_not_end_a_run_that_already_ended_when_its_lease_expired() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(100));
        Run completed = started.completed(at(150), Fixtures.messageId(), Usage.ZERO, null);
        store.runs().update(completed, RunStatus.IN_PROGRESS);

        // when
        boolean ended = store.runs().updateIfLeaseExpired(
                started.failed(at(200), new RunError("interrupted", "The server stopped"), null, Usage.ZERO, null), at(200));

        // then
        assertThat(ended).isFalse();
        assertThat(store.runs().find(started.id())).contains(completed);
    }

    @Test
    void should_let_exactly_one_of_a_renewal_and_racing_reapers_win() {
        // given
        Run started = queuedThenStarted(SERVER_A, at(100));
        Run failed = started.failed(at(200), new RunError("interrupted", "The server stopped"), null, Usage.ZERO, null);

        // when
        List<Object> results = race(6, i -> i == 0
                ? store.runs().renewLease(started.id(), SERVER_A, at(10_000))
                : store.runs().updateIfLeaseExpired(failed, at(200)));

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        Run stored = store.runs().find(started.id()).orElseThrow();
        if (Boolean.TRUE.equals(results.get(0))) {
            assertThat(stored).isEqualTo(started);
        } else {
            assertThat(stored).isEqualTo(failed);
        }
    }

    private Run queuedThenStarted(String owner, Instant leaseExpiresAt) {
        Run queued = givenRun(aRunHere());
        Run started = queued.started(at(1));
        assertThat(store.runs().start(started, owner, leaseExpiresAt)).isTrue();
        return started;
    }
}
