package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Contract of the parts of {@link dev.parley.chat.port.out.RunStore} that runs waiting for approval
 * of tool calls use: pausing ({@code requires_action}, no lease, a decision time), resuming, the
 * compare-and-set of a step's decision, and a waiting run holding its thread. Extend it and
 * implement {@link #createStore()}.
 */
public abstract class ApprovalStoreContract extends RunContractSupport {
    private static final String SERVER_A = "server-a";
    private static final String SERVER_B = "server-b";


    private Run givenRunInProgress(long startedAt) {
        Run queued = givenRun(aRunHere().createdAt(at(startedAt)));
        Run started = queued.started(at(startedAt));
        assertThat(store.runs().start(started, SERVER_A, at(startedAt + 1_000))).isTrue();
        return started;
    }

    private Step givenAwaitingStep(Run run, int position, String callId) {
        Step step = Step.awaitingApproval(Fixtures.stepId(), run.id(), position, new ToolCall(callId, "refund", "{\"order\":\"A-1\"}"),
                at(20));
        store.runs().insertStep(step);
        return step;
    }

    @Test
    void should_pause_a_run_in_progress_without_a_lease_until_its_decision_time() {
        // given
        Run started = givenRunInProgress(10);

        // when
        boolean paused = store.runs().pause(started.requiringAction(), at(5_000));

        // then
        assertThat(paused).isTrue();
        Run waiting = store.runs().find(started.id()).orElseThrow();
        assertThat(waiting.status()).isEqualTo(RunStatus.REQUIRES_ACTION);
        assertThat(waiting.isTerminal()).isFalse();
        assertThat(store.runs().active(thread.id())).containsExactly(waiting);
        assertThat(store.runs().expiredLeases(at(1_000_000), 10)).isEmpty();
        assertThat(store.runs().renewLease(started.id(), SERVER_A, at(9_000))).isFalse();
        assertThat(store.runs().decisionsDue(at(4_999), 10)).isEmpty();
        assertThat(store.runs().decisionsDue(at(5_000), 10)).containsExactly(waiting);
    }

    @Test
    void should_not_pause_a_run_that_is_no_longer_in_progress() {
        // given
        Run started = givenRunInProgress(10);
        store.runs().update(started.cancelled(at(11), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // when
        boolean paused = store.runs().pause(started.requiringAction(), at(5_000));

        // then
        assertThat(paused).isFalse();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(store.runs().decisionsDue(at(1_000_000), 10)).isEmpty();
    }

    @Test
    void should_let_a_waiting_run_hold_its_thread_against_a_second_run_in_progress() {
        // given
        Run started = givenRunInProgress(10);
        store.runs().pause(started.requiringAction(), at(5_000));
        Run next = givenRun(aRunHere().createdAt(at(30)));

        // when / then
        assertThatThrownBy(() -> store.runs().start(next.started(at(31)), SERVER_B, at(2_000)))
                .isInstanceOfSatisfying(ConflictException.class,
                        e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThatThrownBy(() -> store.runs().insertStarted(aRunHere().createdAt(at(32))
                .build().started(at(32)), SERVER_B, at(2_000)))
                .isInstanceOfSatisfying(ConflictException.class,
                        e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(store.runs().active(thread.id())).extracting(Run::status)
                .containsExactly(RunStatus.REQUIRES_ACTION, RunStatus.QUEUED);
    }

    @Test
    void should_resume_a_waiting_run_under_a_new_owner_and_lease() {
        // given
        Run started = givenRunInProgress(10);
        Run waiting = started.requiringAction();
        store.runs().pause(waiting, at(5_000));

        // when
        boolean resumed = store.runs().resume(waiting.resumed(), SERVER_B, at(3_000));

        // then
        assertThat(resumed).isTrue();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(store.runs().decisionsDue(at(1_000_000), 10)).isEmpty();
        assertThat(store.runs().leaseExpiresAt(started.id())).contains(at(3_000));
        assertThat(store.runs().renewLease(started.id(), SERVER_A, at(9_000))).isFalse();
        assertThat(store.runs().renewLease(started.id(), SERVER_B, at(9_000))).isTrue();
    }

    @Test
    void should_let_exactly_one_of_racing_servers_resume_a_waiting_run() {
        // given
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(5_000));

        // when
        List<Object> results = race(6, i -> store.runs().resume(waiting.resumed(), "server-" + i, at(3_000)));

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(Boolean.FALSE::equals).hasSize(5);
    }

    @Test
    void should_not_resume_a_run_that_waits_no_more() {
        // given
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(5_000));
        assertThat(store.runs().update(waiting.cancelled(at(40), null, Usage.ZERO, null), RunStatus.REQUIRES_ACTION)).isTrue();

        // when
        boolean resumed = store.runs().resume(waiting.resumed(), SERVER_B, at(3_000));

        // then
        assertThat(resumed).isFalse();
        assertThat(store.runs().find(waiting.id()).orElseThrow().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(store.runs().active(thread.id())).isEmpty();
        assertThat(store.runs().decisionsDue(at(1_000_000), 10)).isEmpty();
    }

    @Test
    void should_list_due_decisions_soonest_first_up_to_max() {
        // given
        Run late = givenRunInProgress(10).requiringAction();
        store.runs().pause(late, at(900));
        ChatThread other = givenThread();
        Message otherQuestion = givenMessage(other);
        Run soon = givenRun(aRun().onThread(other).forMessage(otherQuestion.id()).createdAt(at(20))).started(at(20));
        store.runs().start(soon, SERVER_A, at(1_000));
        store.runs().pause(soon.requiringAction(), at(300));

        // when / then
        assertThat(store.runs().decisionsDue(at(1_000), 10)).extracting(Run::id).containsExactly(soon.id(), late.id());
        assertThat(store.runs().decisionsDue(at(1_000), 1)).extracting(Run::id).containsExactly(soon.id());
        assertThat(store.runs().decisionsDue(at(500), 10)).extracting(Run::id).containsExactly(soon.id());
    }

    @Test
    void should_bring_a_waiting_runs_decision_time_forward_and_only_a_waiting_runs() {
        // given
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(500_000));
        Run inProgress = givenRunInProgressOnAnotherThread(20);

        // when
        boolean expedited = store.runs().expediteDecision(waiting.id(), at(1_000));
        boolean notWaiting = store.runs().expediteDecision(inProgress.id(), at(1_000));

        // then
        assertThat(expedited).isTrue();
        assertThat(notWaiting).isFalse();
        assertThat(store.runs().decisionsDue(at(999), 10)).isEmpty();
        assertThat(store.runs().decisionsDue(at(1_000), 10)).extracting(Run::id).containsExactly(waiting.id());
        assertThat(store.runs().find(inProgress.id()).map(Run::status)).contains(RunStatus.IN_PROGRESS);
    }

    private Run givenRunInProgressOnAnotherThread(long startedAt) {
        ChatThread other = givenThread();
        Run queued = givenRun(aRun().onThread(other).forMessage(givenMessage(other).id()).createdAt(at(startedAt)));
        Run started = queued.started(at(startedAt));
        assertThat(store.runs().start(started, SERVER_A, at(startedAt + 1_000))).isTrue();
        return started;
    }

    @Test
    void should_round_trip_steps_awaiting_approval_approved_and_denied() {
        // given
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(5_000));
        Step first = givenAwaitingStep(waiting, 1, "call_1");
        Step second = givenAwaitingStep(waiting, 2, "call_2");

        // when
        boolean approved = store.runs().updateStep(first.approved(), StepStatus.AWAITING_APPROVAL);
        boolean denied = store.runs().updateStep(second.denied(at(30), "Not this one ✋"), StepStatus.AWAITING_APPROVAL);

        // then
        assertThat(approved).isTrue();
        assertThat(denied).isTrue();
        assertThat(store.runs().steps(waiting.id())).containsExactly(first.approved(), second.denied(at(30), "Not this one ✋"));
    }

    @Test
    void should_let_exactly_one_of_racing_decisions_of_a_step_win() {
        // given
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(5_000));
        Step step = givenAwaitingStep(waiting, 1, "call_1");

        // when
        List<Object> results = race(6, i -> store.runs().updateStep(i % 2 == 0 ? step.approved() : step.denied(at(30 + i), "no " + i),
                StepStatus.AWAITING_APPROVAL));

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(Boolean.FALSE::equals).hasSize(5);
        assertThat(store.runs().steps(waiting.id()).get(0).status()).isIn(StepStatus.IN_PROGRESS, StepStatus.DENIED);
    }

    @Test
    void should_let_exactly_one_of_racing_deciders_of_different_calls_see_the_last_one_decided() {
        // given: two calls of one waiting run, decided at once, each in a transaction that first
        // takes the run (a compare-and-set on its status) and then counts the calls still waiting
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(5_000));
        List<Step> steps = List.of(givenAwaitingStep(waiting, 1, "call_1"), givenAwaitingStep(waiting, 2, "call_2"));

        // when
        List<Object> results = race(2, i -> store.inTransaction(() -> {
            if (!store.runs().update(waiting, RunStatus.REQUIRES_ACTION)) {
                return "lost";
            }
            assertThat(store.runs().updateStep(steps.get(i).approved(), StepStatus.AWAITING_APPROVAL)).isTrue();
            long stillWaiting = store.runs().steps(waiting.id()).stream()
                    .filter(s -> s.status() == StepStatus.AWAITING_APPROVAL).count();
            return stillWaiting == 0 ? "last" : "not last";
        }));

        // then
        assertThat(results).containsExactlyInAnyOrder("last", "not last");
    }

    @Test
    void should_end_a_waiting_run_as_cancelled_and_free_its_thread() {
        // given
        Run waiting = givenRunInProgress(10).requiringAction();
        store.runs().pause(waiting, at(5_000));
        Step step = givenAwaitingStep(waiting, 1, "call_1");

        // when
        boolean cancelled = store.inTransaction(() -> {
            store.runs().updateStep(step.cancelled(at(40), Usage.ZERO));
            return store.runs().update(waiting.cancelled(at(40), null, Usage.ZERO, null), RunStatus.REQUIRES_ACTION);
        });

        // then
        assertThat(cancelled).isTrue();
        assertThat(store.runs().active(thread.id())).isEmpty();
        assertThat(store.runs().steps(waiting.id())).extracting(Step::status).containsExactly(StepStatus.CANCELLED);
        Run next = givenRun(aRunHere().createdAt(at(50)));
        assertThat(store.runs().start(next.started(at(51)), SERVER_B, at(2_000))).isTrue();
    }
}
