package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import java.math.BigDecimal;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link ChatStore#completeRunAndLook}: a run's answer and completion stored together, and whether a
 * run may wait queued behind it on its thread, as a send that locked the thread before it left it. Extend it and
 * implement {@link #createStore()}; a store that does not look (the port's default) overrides
 * {@link #looksForQueuedRuns()}.
 */
public abstract class RunCompletionContract extends RunContractSupport {
    private static final String SERVER = "server-a";

    /** False for a store that does not look, and so answers that a queued run may wait whatever the thread holds. */
    protected boolean looksForQueuedRuns() {
        return true;
    }

    @Test
    void should_store_the_answer_and_the_completion_and_tell_when_no_run_waits_behind_it() {
        // given
        Run started = startedHere();
        Step turn = turnOf(started);
        Message answer = answerOf(started, "four");

        // when
        ChatStore.Completion completion = store.completeRunAndLook(answer, turn.completed(at(30), null, Usage.reported(3, 1)),
                completedWith(started, answer), RunStatus.IN_PROGRESS);

        // then
        assertThat(completion.runQueued()).isEqualTo(!looksForQueuedRuns());
        assertThat(completion.answer().id()).isEqualTo(answer.id());
        assertThat(store.messages().find(answer.id())).isPresent();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(store.runs().steps(started.id())).singleElement().satisfies(s -> assertThat(s.completedAt()).isNotNull());
        assertThat(store.runs().active(thread.id())).isEmpty();
    }

    @Test
    void should_tell_that_a_queued_run_waits_on_the_thread_of_the_completed_run() {
        // given
        Run started = startedHere();
        Run queued = givenRun(aRunHere().createdAt(at(20)));
        Step turn = turnOf(started);
        Message answer = answerOf(started, "four");

        // when
        ChatStore.Completion completion = store.completeRunAndLook(answer, turn.completed(at(30), null, Usage.reported(3, 1)),
                completedWith(started, answer), RunStatus.IN_PROGRESS);

        // then
        assertThat(completion.runQueued()).isTrue();
        assertThat(store.runs().active(thread.id())).containsExactly(queued);
    }

    @Test
    void should_not_count_a_run_queued_on_another_thread() {
        // given
        Run started = startedHere();
        ChatThread other = givenThread();
        Message otherQuestion = givenMessage(other);
        givenRun(aRun().onThread(other).forMessage(otherQuestion.id()).createdAt(at(20)));
        Step turn = turnOf(started);
        Message answer = answerOf(started, "four");

        // when
        ChatStore.Completion completion = store.completeRunAndLook(answer, turn.completed(at(30), null, Usage.reported(3, 1)),
                completedWith(started, answer), RunStatus.IN_PROGRESS);

        // then
        assertThat(completion.runQueued()).isEqualTo(!looksForQueuedRuns());
    }

    @Test
    void should_keep_nothing_and_refuse_when_the_run_ended_otherwise_first() {
        // given: a cancel ended the run
        Run started = startedHere();
        Step turn = turnOf(started);
        assertThat(store.runs().update(started.cancelled(at(25), null, Usage.ZERO, null), RunStatus.IN_PROGRESS)).isTrue();
        Message answer = answerOf(started, "late");

        // when / then
        assertThatThrownBy(() -> store.completeRunAndLook(answer, turn.completed(at(30), null, Usage.reported(3, 1)),
                completedWith(started, answer), RunStatus.IN_PROGRESS))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_ENDED));
        assertThat(store.messages().find(answer.id())).isEmpty();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.CANCELLED);
    }

    @Test
    void should_refuse_and_keep_nothing_when_the_turns_step_was_never_stored() {
        // given: the turn's step the completion carries is not the store's
        Run started = startedHere();
        Step unstored = aStep().ofRun(started).messageCreation().startedAt(at(11)).build();
        Message answer = answerOf(started, "four");

        // when / then
        assertThatThrownBy(() -> store.completeRunAndLook(answer, unstored.completed(at(30), null, Usage.reported(3, 1)),
                completedWith(started, answer), RunStatus.IN_PROGRESS))
                .isInstanceOf(NotFoundException.class);
        assertThat(store.messages().find(answer.id())).isEmpty();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(store.runs().steps(started.id())).isEmpty();
    }

    @Test
    void should_refuse_a_plain_completion_too_when_the_turns_step_was_never_stored() {
        // given
        Run started = startedHere();
        Step unstored = aStep().ofRun(started).messageCreation().startedAt(at(11)).build();
        Message answer = answerOf(started, "four");

        // when / then
        assertThatThrownBy(() -> store.completeRun(answer, unstored.completed(at(30), null, Usage.reported(3, 1)),
                completedWith(started, answer), RunStatus.IN_PROGRESS))
                .isInstanceOf(NotFoundException.class);
        assertThat(store.messages().find(answer.id())).isEmpty();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
    }

    @Test
    void should_see_a_run_queued_by_a_transaction_that_held_the_threads_lock_while_the_completion_waited() throws Exception {
        // given: a send's transaction holds the thread's lock and has queued a run behind the one in progress
        Run started = startedHere();
        Step turn = turnOf(started);
        Message answer = answerOf(started, "four");
        Run queued = aRunHere().createdAt(at(20)).build();
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> send = pool.submit(() -> store.inTransaction(() -> {
                store.threads().lock(thread.id()).orElseThrow();
                store.runs().insert(queued);
                locked.countDown();
                await(release);
            }));
            assertThat(locked.await(30, TimeUnit.SECONDS)).isTrue();

            // when: the run completes meanwhile, and the send commits while the completion waits for the thread
            Future<ChatStore.Completion> completing = pool.submit(() -> store.completeRunAndLook(answer,
                    turn.completed(at(30), null, Usage.reported(3, 1)), completedWith(started, answer), RunStatus.IN_PROGRESS));
            // time for the completion to reach the thread's lock and wait there; had it not, it reads after the commit,
            // and the answer must be the same
            Thread.sleep(300);
            release.countDown();
            send.get(30, TimeUnit.SECONDS);

            // then: the completion saw the queued run the send committed before it
            assertThat(completing.get(30, TimeUnit.SECONDS).runQueued()).isTrue();
            assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.COMPLETED);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
    }

    private Run startedHere() {
        Run started = givenRun(aRunHere().createdAt(at(10))).started(at(10));
        if (!store.runs().start(started, SERVER, at(100_000))) {
            throw new AssertionError("the store did not start " + started.id());
        }
        return started;
    }

    private Step turnOf(Run run) {
        Step turn = aStep().ofRun(run).messageCreation().startedAt(at(11)).build();
        store.runs().insertStep(turn);
        return turn;
    }

    private Message answerOf(Run run, String text) {
        return aMessage().inThread(thread).inRun(run.id()).fromAssistant().withText(text).createdAt(at(30)).build();
    }

    private static Run completedWith(Run started, Message answer) {
        return started.completed(at(30), answer.id(), Usage.reported(3, 1), BigDecimal.ONE);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("not released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
