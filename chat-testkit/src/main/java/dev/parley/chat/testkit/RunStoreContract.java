package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Contract of {@link dev.parley.chat.port.out.RunStore} (runs and steps): extend it and implement
 * {@link #createStore()}. Costs are compared by value, so a store may change a decimal's scale.
 */
public abstract class RunStoreContract extends StoreContractSupport {
    private static final RecursiveComparisonConfiguration BY_VALUE = RecursiveComparisonConfiguration.builder()
            .withComparatorForType(BigDecimal::compareTo, BigDecimal.class).build();

    /** A live thread with a first user message, to hang runs on. */
    protected ChatThread thread;
    protected Message question;

    @BeforeEach
    void givenAThreadWithAQuestion() {
        thread = givenThread();
        question = givenMessage(thread);
    }

    private Fixtures.RunBuilder aRunHere() {
        return aRun().onThread(thread).forMessage(question.id());
    }

    @Test
    void should_find_an_inserted_queued_run() {
        // given
        Run run = aRunHere().withAgent("helper").withModel("gpt-x").createdAt(at(5)).build();

        // when
        store.runs().insert(run);

        // then
        assertThat(store.runs().find(run.id())).contains(run);
    }

    @Test
    void should_round_trip_finished_runs_with_usage_cost_and_error() {
        // given
        Run completed = aRunHere().createdAt(at(1))
                .completed(Fixtures.messageId(), Usage.estimated(1234, 567), new BigDecimal("0.00123450")).build();
        Run failed = aRunHere().createdAt(at(2)).failed("model_error", "The model failed 💥 مرحبا").build();
        Run cancelled = aRunHere().createdAt(at(3)).cancelled().build();
        Run noCost = aRunHere().createdAt(at(4)).completed(Fixtures.messageId(), Usage.reported(1, 2), null).build();

        // when
        for (Run r : List.of(completed, failed, cancelled, noCost)) {
            store.runs().insert(r);
        }

        // then
        for (Run r : List.of(completed, failed, cancelled, noCost)) {
            assertThat(store.runs().find(r.id())).get().usingRecursiveComparison(BY_VALUE).isEqualTo(r);
        }
    }

    @Test
    void should_find_nothing_for_an_unknown_run() {
        assertThat(store.runs().find(Fixtures.runId())).isEmpty();
    }

    @Test
    void should_refuse_a_second_run_with_the_same_id() {
        // given
        Run run = givenRun(aRunHere());

        // when / then
        assertThatThrownBy(() -> store.runs().insert(aRunHere().withId(run.id()).createdAt(at(9)).build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
    }

    @Test
    void should_replace_a_run_when_its_status_is_still_the_expected_one() {
        // given
        Run queued = givenRun(aRunHere());
        Run started = queued.started(at(10));

        // when
        boolean updated = store.runs().update(started, RunStatus.QUEUED);

        // then
        assertThat(updated).isTrue();
        assertThat(store.runs().find(queued.id())).contains(started);
    }

    @Test
    void should_refuse_to_replace_a_run_whose_status_moved_on() {
        // given
        Run queued = givenRun(aRunHere());
        Run started = queued.started(at(10));
        store.runs().update(started, RunStatus.QUEUED);
        Run cancelled = started.cancelled(at(11), null, Usage.ZERO, null);
        store.runs().update(cancelled, RunStatus.IN_PROGRESS);

        // when
        boolean updated = store.runs().update(started.completed(at(12), Fixtures.messageId(), Usage.ZERO, null),
                RunStatus.IN_PROGRESS);

        // then
        assertThat(updated).isFalse();
        assertThat(store.runs().find(queued.id())).contains(cancelled);
    }

    @Test
    void should_not_update_a_missing_run() {
        assertThat(store.runs().update(aRunHere().build().started(at(1)), RunStatus.QUEUED)).isFalse();
    }

    @Test
    void should_let_exactly_one_of_concurrent_finishers_win() {
        // given
        Run started = givenRun(aRunHere().inProgress());
        int n = 12;

        // when
        List<Object> results = race(n, i -> store.runs().update(i % 2 == 0
                ? started.cancelled(at(100 + i), null, Usage.ZERO, null)
                : started.completed(at(100 + i), Fixtures.messageId(), Usage.ZERO, null), RunStatus.IN_PROGRESS));

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(Boolean.FALSE::equals).hasSize(n - 1);
        assertThat(store.runs().find(started.id()).orElseThrow().isTerminal()).isTrue();
    }

    @Test
    void should_refuse_to_insert_a_second_in_progress_run_on_a_thread() {
        // given
        givenRun(aRunHere().inProgress());

        // when / then
        assertThatThrownBy(() -> store.runs().insert(aRunHere().inProgress().createdAt(at(1)).build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(store.runs().active(thread.id())).hasSize(1);
    }

    @Test
    void should_refuse_to_start_a_second_run_on_a_thread() {
        // given
        givenRun(aRunHere().inProgress());
        Run waiting = givenRun(aRunHere().createdAt(at(1)));

        // when / then
        assertThatThrownBy(() -> store.runs().update(waiting.started(at(2)), RunStatus.QUEUED))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(store.runs().find(waiting.id())).contains(waiting);
    }

    @Test
    void should_start_the_next_run_once_the_active_one_ended() {
        // given
        Run first = givenRun(aRunHere().inProgress());
        Run second = givenRun(aRunHere().createdAt(at(1)));
        store.runs().update(first.completed(at(3), Fixtures.messageId(), Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // when
        boolean started = store.runs().update(second.started(at(4)), RunStatus.QUEUED);

        // then
        assertThat(started).isTrue();
    }

    @Test
    void should_allow_many_queued_runs_and_one_in_progress_run_per_thread() {
        // given
        ChatThread other = givenThread();
        Message otherQuestion = givenMessage(other);

        // when
        givenRun(aRunHere().queued());
        givenRun(aRunHere().queued().createdAt(at(1)));
        givenRun(aRunHere().inProgress().createdAt(at(2)));
        givenRun(aRun().onThread(other).forMessage(otherQuestion.id()).inProgress());

        // then
        assertThat(store.runs().active(thread.id())).hasSize(3);
        assertThat(store.runs().active(other.id())).hasSize(1);
    }

    @Test
    void should_let_exactly_one_of_racing_starters_on_a_thread_win() {
        // given
        int n = 12;
        List<Run> queued = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            queued.add(givenRun(aRunHere().createdAt(at(i))));
        }

        // when
        List<Object> results = race(n, i -> store.runs().update(queued.get(i).started(at(100)), RunStatus.QUEUED));

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(r -> !Boolean.TRUE.equals(r)).allSatisfy(r -> assertThat(r)
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS)));
        assertThat(store.runs().withStatus(RunStatus.IN_PROGRESS, 100)).hasSize(1);
    }

    @Test
    void should_let_exactly_one_of_racing_in_progress_inserts_on_a_thread_win() {
        // given
        int n = 12;

        // when
        List<Object> results = race(n, i -> {
            store.runs().insert(aRunHere().inProgress().createdAt(at(i)).build());
            return Boolean.TRUE;
        });

        // then
        assertThat(results).filteredOn(Boolean.TRUE::equals).hasSize(1);
        assertThat(results).filteredOn(r -> !Boolean.TRUE.equals(r)).allSatisfy(r -> assertThat(r)
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS)));
        assertThat(store.runs().active(thread.id())).hasSize(1);
    }

    @Test
    void should_list_active_runs_oldest_first_without_finished_ones() {
        // given
        Run second = givenRun(aRunHere().createdAt(at(2)));
        Run first = givenRun(aRunHere().inProgress().createdAt(at(1)));
        givenRun(aRunHere().completed().createdAt(at(0)));
        givenRun(aRunHere().failed("model_error", "x").createdAt(at(3)));
        givenRun(aRunHere().cancelled().createdAt(at(4)));
        Run third = givenRun(aRunHere().createdAt(at(5)));

        // when / then
        assertThat(store.runs().active(thread.id())).containsExactly(first, second, third);
        assertThat(store.runs().active(Fixtures.threadId())).isEmpty();
    }

    @Test
    void should_follow_a_run_in_and_out_of_the_active_ones_as_its_status_changes() {
        // given
        Run queued = givenRun(aRunHere().createdAt(at(1)));
        Run started = queued.started(at(2));

        // when / then
        assertThat(store.runs().start(started, "worker-1", at(60))).isTrue();
        assertThat(store.runs().active(thread.id())).containsExactly(started);
        Run done = started.completed(at(3), null, null, null);
        assertThat(store.runs().update(done, RunStatus.IN_PROGRESS)).isTrue();
        assertThat(store.runs().active(thread.id())).isEmpty();
        Run next = givenRun(aRunHere().createdAt(at(4)));
        assertThat(store.runs().active(thread.id())).containsExactly(next);
        store.threads().softDelete(thread.id(), at(5));
        assertThat(store.runs().active(thread.id())).isEmpty();
    }

    @Test
    void should_page_runs_newest_first_across_pages() {
        // given
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            runs.add(0, givenRun(aRunHere().completed().createdAt(at(i * 10L))));
        }
        runs.add(0, givenRun(aRunHere().createdAt(at(1000))));

        // when
        List<Run> walked = walkRuns(4);

        // then
        assertThat(walked).usingRecursiveFieldByFieldElementComparator(BY_VALUE).containsExactlyElementsOf(runs);
    }

    @Test
    void should_break_ties_of_created_at_by_id_descending() {
        // given
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            runs.add(givenRun(aRunHere().completed().createdAt(at(7))));
        }
        runs.sort(Comparator.comparing(Run::id).reversed());

        // when
        List<Run> walked = walkRuns(2);

        // then
        assertThat(walked).extracting(Run::id).containsExactlyElementsOf(runs.stream().map(Run::id).toList());
    }

    @Test
    void should_not_shift_later_run_pages_when_a_run_starts_between_requests() {
        // given
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            runs.add(0, givenRun(aRunHere().completed().createdAt(at(i))));
        }
        Page<Run> first = store.runs().page(thread.id(), PageRequest.first(2));

        // when
        givenRun(aRunHere().createdAt(at(100)));
        Page<Run> second = store.runs().page(thread.id(), new PageRequest(2, first.nextCursor()));

        // then
        assertThat(second.items()).extracting(Run::id).containsExactly(runs.get(2).id(), runs.get(3).id());
        assertThat(second.hasMore()).isFalse();
        assertThat(second.nextCursor()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage", "!!!", "eyJ4IjoxfQ", "%%%", "null"})
    void should_reject_a_malformed_cursor_as_an_invalid_parameter(String cursor) {
        givenRun(aRunHere());

        assertThatThrownBy(() -> store.runs().page(thread.id(), new PageRequest(10, cursor)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_parameter");
                    assertThat(e.errors()).anySatisfy(err -> assertThat(err.field()).isEqualTo("cursor"));
                });
    }

    @Test
    void should_list_runs_in_a_status_across_threads_oldest_first_up_to_max() {
        // given
        ChatThread other = givenThread();
        Message otherQuestion = givenMessage(other);
        Run a = givenRun(aRunHere().inProgress().createdAt(at(5)));
        Run b = givenRun(aRun().onThread(other).forMessage(otherQuestion.id()).inProgress().createdAt(at(1)));
        givenRun(aRunHere().createdAt(at(0)));

        // when / then
        assertThat(store.runs().withStatus(RunStatus.IN_PROGRESS, 10)).containsExactly(b, a);
        assertThat(store.runs().withStatus(RunStatus.IN_PROGRESS, 1)).containsExactly(b);
        assertThat(store.runs().withStatus(RunStatus.FAILED, 10)).isEmpty();
    }

    @Test
    void should_count_the_active_runs_of_the_live_threads_a_user_owns() {
        // given: the fixture thread's owner has a run in progress, a queued one and an ended one here
        givenRun(aRunHere().inProgress().createdAt(at(1)));
        givenRun(aRunHere().createdAt(at(2)));
        givenRun(aRunHere().completed().createdAt(at(0)));
        ChatThread second = givenThread(Fixtures.aThread().ownedBy(thread.ownerId()));
        givenRun(aRun().onThread(second).forMessage(givenMessage(second).id()).createdAt(at(3)));
        ChatThread deleted = givenThread(Fixtures.aThread().ownedBy(thread.ownerId()));
        givenRun(aRun().onThread(deleted).forMessage(givenMessage(deleted).id()).createdAt(at(4)));
        store.threads().softDelete(deleted.id(), at(5));
        ChatThread someoneElses = givenThread(Fixtures.aThread().ownedBy("someone-else"));
        givenRun(aRun().onThread(someoneElses).forMessage(givenMessage(someoneElses).id()).inProgress());

        // when
        int mine = store.inTransaction(() -> store.runs().lockActiveRunsOf(thread.ownerId()));
        int theirs = store.inTransaction(() -> store.runs().lockActiveRunsOf("someone-else"));
        int nobodys = store.inTransaction(() -> store.runs().lockActiveRunsOf("nobody"));

        // then
        assertThat(mine).isEqualTo(3);
        assertThat(theirs).isEqualTo(1);
        assertThat(nobodys).isZero();
        assertThat(store.runs().count(RunStatus.QUEUED)).isEqualTo(2);
        assertThat(store.runs().count(RunStatus.IN_PROGRESS)).isEqualTo(2);
    }

    @Test
    void should_let_concurrent_checks_of_one_users_active_runs_add_no_more_than_the_limit() {
        // given: each racer counts the user's active runs and adds one while fewer than the limit
        int limit = 3;
        int racers = 10;

        // when
        List<Object> added = race(racers, i -> store.inTransaction(() -> {
            if (store.runs().lockActiveRunsOf(thread.ownerId()) >= limit) {
                return false;
            }
            store.runs().insert(aRunHere().createdAt(at(10 + i)).build());
            return true;
        }));

        // then
        assertThat(added).filteredOn(Boolean.TRUE::equals).hasSize(limit);
        assertThat(store.runs().active(thread.id())).hasSize(limit);
    }

    @Test
    void should_list_as_startable_the_oldest_queued_run_of_each_thread_with_nothing_in_progress() {
        // given: a run in progress with one queued behind it here, two queued on a second thread, one on a third
        givenRun(aRunHere().inProgress().createdAt(at(0)));
        givenRun(aRunHere().createdAt(at(1)));
        ChatThread second = givenThread();
        Message secondQuestion = givenMessage(second);
        Run secondFirst = givenRun(aRun().onThread(second).forMessage(secondQuestion.id()).createdAt(at(3)));
        givenRun(aRun().onThread(second).forMessage(secondQuestion.id()).createdAt(at(4)));
        ChatThread third = givenThread();
        Run thirdOnly = givenRun(aRun().onThread(third).forMessage(givenMessage(third).id()).createdAt(at(2)));

        // when / then
        assertThat(store.runs().startable(10)).containsExactly(thirdOnly, secondFirst);
        assertThat(store.runs().startable(1)).containsExactly(thirdOnly);
    }

    @Test
    void should_hide_the_runs_of_a_soft_deleted_thread() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        store.runs().insertStep(aStep().ofRun(run).build());

        // when
        store.threads().softDelete(thread.id(), at(50));

        // then
        assertThat(store.runs().find(run.id())).isEmpty();
        assertThat(store.runs().active(thread.id())).isEmpty();
        assertThat(store.runs().page(thread.id(), PageRequest.firstPage()).items()).isEmpty();
        assertThat(store.runs().steps(run.id())).isEmpty();
    }

    @Test
    void should_still_finish_a_run_whose_thread_was_soft_deleted_meanwhile() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        store.threads().softDelete(thread.id(), at(50));

        // when
        boolean updated = store.runs().update(run.cancelled(at(51), null, Usage.ZERO, null), RunStatus.IN_PROGRESS);

        // then
        assertThat(updated).isTrue();
    }

    @Test
    void should_round_trip_steps_ordered_by_position() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step third = aStep().ofRun(run).atPosition(3).messageCreation().startedAt(at(30)).build();
        Step first = aStep().ofRun(run).atPosition(1)
                .callingTool(new ToolCall("call_1", "search", "{\"q\":\"" + Fixtures.UNICODE.replace("\"", "").replace("\\", "")
                        .replace("\n", " ").replace("\t", " ") + "\"}"))
                .startedAt(at(10)).withUsage(Usage.reported(3, 4)).completed(Fixtures.longText(5000)).build();
        Step second = aStep().ofRun(run).atPosition(2).startedAt(at(20)).failed("tool_timeout: took longer than 30s").build();

        // when
        store.runs().insertStep(third);
        store.runs().insertStep(first);
        store.runs().insertStep(second);

        // then
        assertThat(store.runs().steps(run.id())).containsExactly(first, second, third);
        assertThat(store.runs().steps(Fixtures.runId())).isEmpty();
    }

    @Test
    void should_replace_a_step_matched_by_id() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step step = aStep().ofRun(run).startedAt(at(10)).build();
        store.runs().insertStep(step);
        Step done = step.completed(at(35), "42", Usage.reported(1, 1));

        // when
        store.runs().updateStep(done);

        // then
        assertThat(store.runs().steps(run.id())).containsExactly(done);
        assertThat(store.runs().steps(run.id()).get(0).latencyMs()).isEqualTo(25L);
    }

    @Test
    void should_refuse_a_second_step_with_the_same_id() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step step = aStep().ofRun(run).build();
        store.runs().insertStep(step);

        // when / then
        assertThatThrownBy(() -> store.runs().insertStep(aStep().ofRun(run).withId(step.id()).atPosition(2).build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
    }

    @Test
    void should_keep_runs_cancelled_with_a_partial_message_and_failed_with_their_error() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        var partial = Fixtures.messageId();
        Run failed = run.failed(at(9), new RunError("model_timeout", "The model took too long"), partial,
                Usage.estimated(10, 3), new BigDecimal("0.5"));

        // when
        store.runs().update(failed, RunStatus.IN_PROGRESS);

        // then
        Optional<Run> found = store.runs().find(run.id());
        assertThat(found).get().usingRecursiveComparison(BY_VALUE).isEqualTo(failed);
        assertThat(found.orElseThrow().error()).isEqualTo(new RunError("model_timeout", "The model took too long"));
        assertThat(found.orElseThrow().assistantMessageId()).isEqualTo(partial);
    }

    @Test
    void should_keep_step_status_after_an_update_to_cancelled() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step step = aStep().ofRun(run).build();
        store.runs().insertStep(step);

        // when
        store.runs().updateStep(step.cancelled(at(5), Usage.ZERO));

        // then
        assertThat(store.runs().steps(run.id())).singleElement()
                .satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.CANCELLED));
    }

    /** Reads every page of the thread's runs and checks the page invariants on the way. */
    protected List<Run> walkRuns(int limit) {
        List<Run> all = new ArrayList<>();
        String cursor = null;
        for (int guard = 0; guard < 1000; guard++) {
            Page<Run> page = store.runs().page(thread.id(), new PageRequest(limit, cursor));
            assertThat(page.items().size()).isLessThanOrEqualTo(limit);
            assertThat(page.nextCursor() == null).isEqualTo(!page.hasMore());
            if (page.hasMore()) {
                assertThat(page.items()).hasSize(limit);
            }
            all.addAll(page.items());
            if (!page.hasMore()) {
                assertThat(all).extracting(Run::id).doesNotHaveDuplicates();
                return all;
            }
            cursor = page.nextCursor();
        }
        throw new AssertionError("paging did not end");
    }

    // ---- leases ------------------------------------------------------------------------------

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
        Run early = startedOnNewThread(SERVER_B, at(100));
        Run middle = startedOnNewThread(SERVER_A, at(200));
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

    private Run startedOnNewThread(String owner, Instant leaseExpiresAt) {
        ChatThread other = givenThread();
        Message otherQuestion = givenMessage(other);
        Run queued = givenRun(aRun().onThread(other).forMessage(otherQuestion.id()));
        Run started = queued.started(at(1));
        assertThat(store.runs().start(started, owner, leaseExpiresAt)).isTrue();
        return started;
    }
}
