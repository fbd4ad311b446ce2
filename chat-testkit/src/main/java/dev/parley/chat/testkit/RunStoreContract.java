package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Contract of {@link dev.parley.chat.port.out.RunStore} (runs and steps): extend it and implement
 * {@link #createStore()}. Costs are compared by value, so a store may change a decimal's scale.
 */
public abstract class RunStoreContract extends RunContractSupport {
    private static final RecursiveComparisonConfiguration BY_VALUE = RecursiveComparisonConfiguration.builder()
            .withComparatorForType(BigDecimal::compareTo, BigDecimal.class).build();


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
}
