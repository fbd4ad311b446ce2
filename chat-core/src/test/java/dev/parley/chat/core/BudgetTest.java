package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BudgetExceededException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ForbiddenException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.UsageQuery;
import dev.parley.chat.port.in.UsageReport;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Usage reports and monthly budgets over the store's ledger. */
class BudgetTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    /** Every reply costs 1 USD: 1 output token at a million dollars per million. */
    private void start(BigDecimal budget) {
        ScriptedChatModel model = ScriptedChatModel.builder().reply("ok").usage(0, 1).reply("ok").usage(0, 1)
                .reply("ok").usage(0, 1).reply("ok").usage(0, 1).build();
        chat = ChatHarness.custom(InMemoryAdapters.store(), model, List.of(ChatHarness.agent(null)),
                b -> b.prices(Map.of("scripted", ModelPrice.of("0", "1000000"))).monthlyBudgetUsd(budget));
    }

    private void spend(String user, ChatThread thread) {
        var sent = chat.service.send(SendMessageCommand.text(user, thread.id(), "hi"));
        try {
            chat.service.await(user, sent.run().id(), ChatHarness.WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void should_refuse_new_runs_once_the_month_to_date_cost_reaches_the_budget_until_the_month_ends() {
        // given: a budget of 2 USD, spent by two runs
        start(new BigDecimal("2"));
        ChatThread thread = chat.newThread(ALICE);
        spend(ALICE, thread);
        spend(ALICE, thread);
        // when / then
        assertThatThrownBy(() -> chat.send(thread.id(), "one more"))
                .isInstanceOfSatisfying(BudgetExceededException.class, e -> {
                    assertThat(e.code()).isEqualTo("budget_exceeded");
                    // the harness's clock says 2026-01-05T10:00Z: the budget renews on February 1st
                    assertThat(e.retryAfter()).isEqualTo(Duration.between(chat.clock.instant(), Instant.parse("2026-02-01T00:00:00Z")));
                });
        // another user has a budget of their own
        spend(BOB, chat.newThread(BOB));
        // the next month the budget is whole again
        chat.clock.advance(Duration.ofDays(27));
        spend(ALICE, thread);
    }

    @Test
    void should_report_this_months_usage_by_day_and_refuse_other_users_to_non_admins() {
        // given
        start(null);
        ChatThread thread = chat.newThread(ALICE);
        spend(ALICE, thread);
        chat.clock.advance(Duration.ofDays(1));
        spend(ALICE, thread);
        spend(BOB, chat.newThread(BOB));
        // when
        UsageReport report = chat.service.usage(Caller.user(ALICE), UsageQuery.thisMonth());
        UsageReport byUser = chat.service.usage(Caller.admin("root"), new UsageQuery(null, null, null, UsageGroup.USER));
        UsageReport bobs = chat.service.usage(Caller.admin("root"), new UsageQuery(BOB, null, null, UsageGroup.AGENT));
        // then
        assertThat(report.from()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(report.to()).isEqualTo(Instant.parse("2026-02-01T00:00:00Z"));
        assertThat(report.rows()).extracting(UsageRow::group).containsExactly("2026-01-05", "2026-01-06");
        assertThat(report.total().runs()).isEqualTo(2);
        assertThat(report.total().costUsd()).isEqualByComparingTo("2");
        assertThat(byUser.rows()).extracting(UsageRow::group).containsExactly(ALICE, BOB);
        assertThat(bobs.total().runs()).isEqualTo(1);
        assertThatThrownBy(() -> chat.service.usage(Caller.user(ALICE), new UsageQuery(BOB, null, null, UsageGroup.DAY)))
                .isInstanceOf(ForbiddenException.class);
        assertThatThrownBy(() -> chat.service.usage(Caller.user(ALICE), new UsageQuery(null, null, null, UsageGroup.USER)))
                .isInstanceOf(ForbiddenException.class);
    }

    @Test
    void should_refuse_a_range_that_is_reversed_or_not_on_whole_hours() {
        start(null);
        Instant hour = Instant.parse("2026-01-05T10:00:00Z");
        assertThatThrownBy(() -> chat.service.usage(Caller.user(ALICE), new UsageQuery(null, hour.plusSeconds(60), null, UsageGroup.DAY)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors().get(0).field()).isEqualTo("from"));
        assertThatThrownBy(() -> chat.service.usage(Caller.user(ALICE), new UsageQuery(null, hour, hour, UsageGroup.DAY)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors().get(0).field()).isEqualTo("to"));
    }
}
