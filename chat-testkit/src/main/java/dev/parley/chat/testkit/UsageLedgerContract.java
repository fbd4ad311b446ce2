package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.aThread;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Contract of the usage ledger: {@link dev.parley.chat.port.out.RunStore#update} counting each run
 * that ends in its thread's totals and in {@link dev.parley.chat.port.out.UsageStore} reports.
 */
public abstract class UsageLedgerContract extends StoreContractSupport {
    private static final Instant DAY1 = Instant.parse("2026-03-01T00:00:00Z");
    private static final Instant DAY2 = Instant.parse("2026-03-02T00:00:00Z");
    private static final Instant MONTH_END = Instant.parse("2026-04-01T00:00:00Z");

    /** A run of {@code thread} started at {@code at} and ended through the store 10 minutes later. */
    private Run ended(ChatThread thread, String agent, String model, Instant at, RunStatus status, Usage usage, BigDecimal cost) {
        Run started = aRun().onThread(thread).withAgent(agent).withModel(model).createdAt(at).inProgress().build();
        store.runs().insert(aRun().withId(started.id()).onThread(thread).withAgent(agent).withModel(model).createdAt(at).build());
        assertThat(store.runs().start(started, "server-a", at.plusSeconds(60))).isTrue();
        Instant end = at.plusSeconds(600);
        Run done = switch (status) {
            case COMPLETED -> started.completed(end, null, usage, cost);
            case FAILED -> started.failed(end, new RunError("model_error", "boom"), null, usage, cost);
            default -> started.cancelled(end, null, usage, cost);
        };
        assertThat(store.runs().update(done, RunStatus.IN_PROGRESS)).isTrue();
        return done;
    }

    /** A run of {@code thread} created at {@link #DAY1} and started on server-a with a lease until {@code leaseExpiresAt}. */
    private Run startedRun(ChatThread thread, Instant leaseExpiresAt) {
        Run started = aRun().onThread(thread).createdAt(DAY1).inProgress().build();
        store.runs().insert(aRun().withId(started.id()).onThread(thread).createdAt(DAY1).build());
        store.runs().start(started, "server-a", leaseExpiresAt);
        return started;
    }

    private static Map<String, UsageTotals> byGroup(List<UsageRow> rows) {
        return rows.stream().collect(Collectors.toMap(UsageRow::group, UsageRow::totals));
    }

    @Test
    void should_add_every_ended_run_to_its_threads_totals() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        // when
        ended(thread, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(100, 20), new BigDecimal("0.0012"));
        ended(thread, "helper", "gpt", DAY1, RunStatus.CANCELLED, Usage.estimated(7, 3), new BigDecimal("0.0001"));
        ended(thread, "helper", "gpt", DAY1, RunStatus.FAILED, Usage.reported(1, 0), new BigDecimal("0.00001"));
        // then
        UsageTotals totals = store.threads().find(thread.id()).orElseThrow().usage();
        assertThat(totals.runs()).isEqualTo(3);
        assertThat(totals.inputTokens()).isEqualTo(108);
        assertThat(totals.outputTokens()).isEqualTo(23);
        assertThat(totals.costUsd()).isEqualByComparingTo("0.00131");
        assertThat(store.threads().list("alice", null, PageRequest.firstPage()).items().get(0).usage()).isEqualTo(totals);
    }

    @Test
    void should_start_a_thread_with_zero_totals_and_a_zero_cost() {
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        UsageTotals totals = store.threads().find(thread.id()).orElseThrow().usage();
        assertThat(totals).isEqualTo(UsageTotals.NONE);
        assertThat(totals.costUsd()).isEqualByComparingTo("0");
    }

    @Test
    void should_leave_the_cost_null_only_when_no_run_had_a_price() {
        // given
        ChatThread unpriced = givenThread(aThread().ownedBy("alice"));
        ChatThread mixed = givenThread(aThread().ownedBy("alice"));
        // when
        ended(unpriced, "helper", "local", DAY1, RunStatus.COMPLETED, Usage.reported(5, 5), null);
        ended(mixed, "helper", "local", DAY1, RunStatus.COMPLETED, Usage.reported(5, 5), null);
        ended(mixed, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(5, 5), new BigDecimal("0.5"));
        // then
        assertThat(store.threads().find(unpriced.id()).orElseThrow().usage().costUsd()).isNull();
        UsageTotals both = store.threads().find(mixed.id()).orElseThrow().usage();
        assertThat(both.costUsd()).isEqualByComparingTo("0.5");
        assertThat(both.unpricedRuns()).isEqualTo(1);
    }

    @Test
    void should_count_nothing_for_a_change_that_does_not_end_a_run_or_loses_its_race() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        Run done = ended(thread, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(10, 10), BigDecimal.ONE);
        // when: the same end again, and a cancel that lost to it
        boolean again = store.runs().update(done, RunStatus.IN_PROGRESS);
        // then
        assertThat(again).isFalse();
        assertThat(store.threads().find(thread.id()).orElseThrow().usage().runs()).isEqualTo(1);
        assertThat(store.usage().usage("alice", DAY1, MONTH_END, UsageGroup.DAY)).hasSize(1)
                .allSatisfy(r -> assertThat(r.totals().runs()).isEqualTo(1));
    }

    @Test
    void should_count_a_run_ended_by_another_server_after_its_lease_expired() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        Run started = startedRun(thread, DAY1.plusSeconds(30));
        // when
        Run failed = started.failed(DAY1.plusSeconds(60), new RunError("interrupted", "gone"), null, Usage.reported(3, 4),
                new BigDecimal("0.25"));
        assertThat(store.runs().updateIfLeaseExpired(failed, DAY1.plusSeconds(60))).isTrue();
        // then
        assertThat(store.threads().find(thread.id()).orElseThrow().usage().totalTokens()).isEqualTo(7);
        assertThat(store.usage().usage("alice", DAY1, DAY2, UsageGroup.MODEL).get(0).totals().costUsd()).isEqualByComparingTo("0.25");
    }

    @Test
    void should_count_nothing_when_the_transaction_that_ended_the_run_rolls_back() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        Run started = startedRun(thread, DAY1.plusSeconds(30));
        // when
        assertThatThrownBy(() -> store.inTransaction(() -> {
            store.runs().update(started.completed(DAY1.plusSeconds(5), null, Usage.reported(1, 1), BigDecimal.ONE), RunStatus.IN_PROGRESS);
            throw new IllegalStateException("rolled back");
        })).hasMessage("rolled back");
        // then
        assertThat(store.threads().find(thread.id()).orElseThrow().usage()).isEqualTo(UsageTotals.NONE);
        assertThat(store.usage().usage("alice", DAY1, MONTH_END, UsageGroup.DAY)).isEmpty();
    }

    @Test
    void should_count_a_run_completed_with_its_answer_once_in_its_threads_totals_and_the_ledger() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        Run started = aRun().onThread(thread).withAgent("helper").withModel("gpt").createdAt(DAY1).inProgress().build();
        store.runs().insert(aRun().withId(started.id()).onThread(thread).withAgent("helper").withModel("gpt").createdAt(DAY1).build());
        store.runs().start(started, "server-a", DAY1.plusSeconds(60));
        Step turn = aStep().ofRun(started).messageCreation().startedAt(DAY1.plusSeconds(1)).build();
        store.runs().insertStep(turn);
        Message answer = aMessage().inThread(thread).inRun(started.id()).fromAssistant().withText("four").createdAt(DAY1.plusSeconds(2)).build();
        Run completed = started.completed(DAY1.plusSeconds(2), answer.id(), Usage.reported(30, 4), new BigDecimal("0.003"));

        // when
        Message stored = store.completeRun(answer, turn.completed(DAY1.plusSeconds(2), null, Usage.reported(30, 4)), completed,
                RunStatus.IN_PROGRESS);

        // then
        ChatThread after = store.threads().find(thread.id()).orElseThrow();
        assertThat(after.usage()).isEqualTo(new UsageTotals(1, 30, 0, 4, new BigDecimal("0.003"), 0));
        assertThat(stored.id()).isEqualTo(answer.id());
        assertThat(store.messages().page(thread.id(), PageRequest.firstPage(), SortOrder.ASC).items())
                .extracting(Message::id).containsExactly(answer.id());
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(store.runs().steps(started.id())).singleElement().satisfies(s -> assertThat(s.completedAt()).isNotNull());
        assertThat(byGroup(store.usage().usage("alice", DAY1, DAY2, UsageGroup.THREAD)))
                .containsExactly(Map.entry(thread.id().value(), new UsageTotals(1, 30, 0, 4, new BigDecimal("0.003"), 0)));
        assertThat(byGroup(store.usage().usage("alice", DAY1, DAY2, UsageGroup.AGENT)))
                .containsExactly(Map.entry("helper", new UsageTotals(1, 30, 0, 4, new BigDecimal("0.003"), 0)));
    }

    @Test
    void should_keep_neither_the_answer_nor_its_usage_when_the_run_ended_otherwise_before_it_completed() {
        // given: a cancel ended the run first
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        Run started = startedRun(thread, DAY1.plusSeconds(60));
        Step turn = aStep().ofRun(started).messageCreation().startedAt(DAY1.plusSeconds(1)).build();
        store.runs().insertStep(turn);
        assertThat(store.runs().update(started.cancelled(DAY1.plusSeconds(2), null, Usage.reported(5, 1), BigDecimal.ONE),
                RunStatus.IN_PROGRESS)).isTrue();
        Message answer = aMessage().inThread(thread).inRun(started.id()).fromAssistant().withText("late").createdAt(DAY1.plusSeconds(3)).build();
        Run completed = started.completed(DAY1.plusSeconds(3), answer.id(), Usage.reported(30, 4), new BigDecimal("0.003"));

        // when
        assertThatThrownBy(() -> store.completeRun(answer, turn.completed(DAY1.plusSeconds(3), null, Usage.reported(30, 4)), completed,
                RunStatus.IN_PROGRESS))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_ENDED));

        // then: the cancel's usage alone, and no answer
        ChatThread after = store.threads().find(thread.id()).orElseThrow();
        assertThat(after.usage()).isEqualTo(new UsageTotals(1, 5, 0, 1, BigDecimal.ONE, 0));
        assertThat(store.messages().find(answer.id())).isEmpty();
        assertThat(store.runs().find(started.id()).orElseThrow().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(store.usage().usage("alice", DAY1, DAY2, UsageGroup.DAY)).singleElement()
                .satisfies(r -> assertThat(r.totals().runs()).isEqualTo(1));
    }

    @Test
    void should_report_a_users_runs_by_day_agent_model_and_thread() {
        // given
        ChatThread first = givenThread(aThread().ownedBy("alice"));
        ChatThread second = givenThread(aThread().ownedBy("alice"));
        ChatThread bobs = givenThread(aThread().ownedBy("bob"));
        ended(first, "helper", "gpt", DAY1.plusSeconds(3600), RunStatus.COMPLETED, Usage.reported(10, 1), new BigDecimal("1.5"));
        ended(first, "helper", "gpt", DAY2.plusSeconds(60), RunStatus.COMPLETED, Usage.reported(20, 2), new BigDecimal("2"));
        ended(second, "coder", "llama", DAY2.plusSeconds(7200), RunStatus.COMPLETED, Usage.reported(30, 3), null);
        ended(bobs, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(1000, 1000), BigDecimal.TEN);
        // when
        List<UsageRow> days = store.usage().usage("alice", DAY1, MONTH_END, UsageGroup.DAY);
        Map<String, UsageTotals> agents = byGroup(store.usage().usage("alice", DAY1, MONTH_END, UsageGroup.AGENT));
        Map<String, UsageTotals> models = byGroup(store.usage().usage("alice", DAY1, MONTH_END, UsageGroup.MODEL));
        Map<String, UsageTotals> threads = byGroup(store.usage().usage("alice", DAY1, MONTH_END, UsageGroup.THREAD));
        // then
        assertThat(days).extracting(UsageRow::group).containsExactly("2026-03-01", "2026-03-02");
        assertThat(days.get(0).totals().inputTokens()).isEqualTo(10);
        assertThat(days.get(1).totals().runs()).isEqualTo(2);
        assertThat(days.get(1).totals().costUsd()).isEqualByComparingTo("2");
        assertThat(agents.get("helper").runs()).isEqualTo(2);
        assertThat(agents.get("coder").outputTokens()).isEqualTo(3);
        assertThat(models.get("llama").costUsd()).isNull();
        assertThat(models.get("gpt").costUsd()).isEqualByComparingTo("3.5");
        assertThat(threads.get(first.id().value()).totalTokens()).isEqualTo(33);
        assertThat(threads.get(second.id().value()).runs()).isEqualTo(1);
        assertThat(threads).doesNotContainKey(bobs.id().value());
    }

    @Test
    void should_count_runs_in_the_hour_they_ended_within_a_half_open_range() {
        // given: runs ending at 00:10 and 01:10
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        ended(thread, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(1, 0), BigDecimal.ONE);
        ended(thread, "helper", "gpt", DAY1.plusSeconds(3600), RunStatus.COMPLETED, Usage.reported(2, 0), BigDecimal.ONE);
        // when
        List<UsageRow> firstHour = store.usage().usage("alice", DAY1, DAY1.plusSeconds(3600), UsageGroup.AGENT);
        List<UsageRow> secondHour = store.usage().usage("alice", DAY1.plusSeconds(3600), DAY1.plusSeconds(7200), UsageGroup.AGENT);
        List<UsageRow> before = store.usage().usage("alice", DAY1.minusSeconds(3600), DAY1, UsageGroup.AGENT);
        // then
        assertThat(firstHour.get(0).totals().inputTokens()).isEqualTo(1);
        assertThat(secondHour.get(0).totals().inputTokens()).isEqualTo(2);
        assertThat(before).isEmpty();
    }

    @Test
    void should_report_every_user_by_user_and_keep_usage_after_the_thread_is_gone() {
        // given
        ChatThread alices = givenThread(aThread().ownedBy("alice"));
        ChatThread bobs = givenThread(aThread().ownedBy("bob"));
        ended(alices, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(1, 1), BigDecimal.ONE);
        ended(bobs, "helper", "gpt", DAY1, RunStatus.COMPLETED, Usage.reported(2, 2), BigDecimal.TEN);
        // when
        store.threads().hardDelete(bobs.id());
        Map<String, UsageTotals> users = byGroup(store.usage().usage(null, DAY1, MONTH_END, UsageGroup.USER));
        Map<String, UsageTotals> everyone = byGroup(store.usage().usage(null, DAY1, MONTH_END, UsageGroup.MODEL));
        // then
        assertThat(users).containsOnlyKeys("alice", "bob");
        assertThat(users.get("bob").costUsd()).isEqualByComparingTo("10");
        assertThat(everyone.get("gpt").runs()).isEqualTo(2);
    }
}
