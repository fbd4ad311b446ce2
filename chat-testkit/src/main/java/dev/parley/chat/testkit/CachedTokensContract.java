package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aMessage;
import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.aThread;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.Usage;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Contract of cached input tokens ({@link Usage#cachedInputTokens()}, the part of the input tokens
 * read from the model's prompt cache): every store keeps them wherever it keeps usage (runs, steps,
 * assistant messages, run events), and the usage ledger adds them up per thread and per report group.
 */
public abstract class CachedTokensContract extends StoreContractSupport {
    private static final Instant DAY = Instant.parse("2026-03-01T10:00:00Z");
    private static final Usage CACHED = Usage.reported(1_000, 50).withCachedInputTokens(800);

    @Test
    void should_keep_the_cached_input_tokens_of_an_ended_run() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        // when
        Run done = ended(thread, CACHED, new BigDecimal("0.00012"));
        // then
        Run stored = store.runs().find(done.id()).orElseThrow();
        assertThat(stored.usage()).isEqualTo(CACHED);
        assertThat(store.runs().page(thread.id(), PageRequest.firstPage()).items())
                .extracting(r -> r.usage().cachedInputTokens()).containsExactly(800L);
    }

    @Test
    void should_keep_the_cached_input_tokens_of_a_step() {
        // given
        ChatThread thread = givenThread();
        Run run = givenRun(aRun().onThread(thread).inProgress());
        Step step = aStep().ofRun(run).messageCreation().build();
        store.runs().insertStep(step);
        // when
        Step finished = step.completed(DAY, null, CACHED);
        store.runs().updateStep(finished);
        // then
        assertThat(store.runs().steps(run.id())).extracting(Step::usage).containsExactly(CACHED);
    }

    @Test
    void should_keep_the_cached_input_tokens_of_an_assistant_message() {
        // given
        ChatThread thread = givenThread();
        Message answer = aMessage().inThread(thread).fromAssistant().withText("Hello").build().withUsage(CACHED);
        // when
        Message stored = store.messages().append(answer);
        // then
        assertThat(store.messages().find(stored.id()).orElseThrow().usage()).isEqualTo(CACHED);
    }

    @Test
    void should_keep_the_cached_input_tokens_of_a_done_event() {
        // given
        ChatThread thread = givenThread();
        Run run = givenRun(aRun().onThread(thread).inProgress());
        RunEvent.Done done = new RunEvent.Done(run.id(), 1, thread.id(), new MessageId("msg_answer"), CACHED, new BigDecimal("0.5"));
        // when
        store.events().append(List.of(done));
        // then
        assertThat(store.events().read(run.id(), 0, 10)).containsExactly(done);
    }

    @Test
    void should_add_cached_input_tokens_to_the_thread_totals_and_the_usage_report() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        // when
        ended(thread, CACHED, new BigDecimal("0.0001"));
        ended(thread, Usage.reported(200, 10).withCachedInputTokens(150), new BigDecimal("0.00002"));
        ended(thread, Usage.estimated(30, 3), null);
        // then
        assertThat(store.threads().find(thread.id()).orElseThrow().usage().cachedInputTokens()).isEqualTo(950);
        assertThat(store.threads().find(thread.id()).orElseThrow().usage().inputTokens()).isEqualTo(1_230);
        for (UsageGroup group : List.of(UsageGroup.DAY, UsageGroup.MODEL, UsageGroup.THREAD)) {
            List<UsageRow> rows = store.usage().usage("alice", DAY.minusSeconds(36_000), DAY.plusSeconds(86_400), group);
            assertThat(rows).as(group.wireName()).hasSize(1);
            assertThat(rows.get(0).totals().cachedInputTokens()).as(group.wireName()).isEqualTo(950);
            assertThat(rows.get(0).totals().inputTokens()).as(group.wireName()).isEqualTo(1_230);
        }
    }

    @Test
    void should_report_no_cached_input_tokens_for_runs_that_had_none() {
        // given
        ChatThread thread = givenThread(aThread().ownedBy("alice"));
        // when
        ended(thread, Usage.reported(40, 4), null);
        // then
        assertThat(store.threads().find(thread.id()).orElseThrow().usage().cachedInputTokens()).isZero();
        assertThat(store.usage().usage("alice", DAY.minusSeconds(36_000), DAY.plusSeconds(86_400), UsageGroup.AGENT).get(0)
                .totals().cachedInputTokens()).isZero();
    }

    /** A run of {@code thread} started at {@link #DAY} and completed through the store with {@code usage}. */
    private Run ended(ChatThread thread, Usage usage, BigDecimal cost) {
        Run started = aRun().onThread(thread).withModel("gpt").createdAt(DAY).inProgress().build();
        store.runs().insert(aRun().withId(started.id()).onThread(thread).withModel("gpt").createdAt(DAY).build());
        assertThat(store.runs().start(started, "server-a", DAY.plusSeconds(60))).isTrue();
        Run done = started.completed(DAY.plusSeconds(60), null, usage, cost);
        assertThat(store.runs().update(done, RunStatus.IN_PROGRESS)).isTrue();
        return done;
    }
}
