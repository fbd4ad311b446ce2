package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.UsageQuery;
import dev.parley.chat.port.in.UsageReport;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Cached input tokens a model reports are summed over a run's turns, priced apart and counted in every total. */
class CachedInputTokensTest {
    private static final ToolCall CALL = new ToolCall("call_1", "weather", "{}");
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    /** {@code scripted}, each turn reporting {@code cached} of its input tokens as read from the prompt cache. */
    private static ChatModel cachingPrompts(ScriptedChatModel scripted, long cached) {
        return new ChatModel() {
            @Override
            public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
                ModelResponse r = scripted.complete(request, listener, cancellation);
                return new ModelResponse(r.text(), r.toolCalls(), r.usage().withCachedInputTokens(cached), r.finishReason(), r.model());
            }

            @Override
            public String defaultModel() {
                return scripted.defaultModel();
            }
        };
    }

    @Test
    void should_sum_cached_input_tokens_over_turns_and_price_them_at_the_cached_price() {
        // given two turns of 1,000 input tokens, 600 of each read from the cache
        ScriptedChatModel scripted = ScriptedChatModel.builder().callTools(CALL).usage(1_000, 10).reply("sunny").usage(1_000, 20).build();
        chat = ChatHarness.custom(InMemoryAdapters.store(), cachingPrompts(scripted, 600),
                List.of(ChatHarness.agent(null, TestTool.named("weather", ctx -> "sunny"))),
                b -> b.prices(Map.of("scripted", ModelPrice.of("1", "4", "0.25"))));
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "Weather?").run().id());

        // then (800 * 1 + 1,200 * 0.25 + 30 * 4) / 1e6
        Usage expected = new Usage(2_000, 1_200, 30, false);
        assertThat(outcome.run().usage()).isEqualTo(expected);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo("0.00122");
        assertThat(outcome.steps()).filteredOn(s -> s.type() == StepType.MESSAGE_CREATION)
                .extracting(s -> s.usage().cachedInputTokens()).containsExactly(600L, 600L);
        assertThat(outcome.assistantMessage().usage().cachedInputTokens()).isEqualTo(600);
        RunEvent.Done done = (RunEvent.Done) Events.last(chat.events(outcome.run().id()));
        assertThat(done.usage()).isEqualTo(expected);
        assertThat(chat.service.getThread(ALICE, thread.id()).usage().cachedInputTokens()).isEqualTo(1_200);
        UsageReport report = chat.service.usage(Caller.user(ALICE), UsageQuery.thisMonth());
        assertThat(report.total().cachedInputTokens()).isEqualTo(1_200);
        assertThat(report.total().costUsd()).isEqualByComparingTo("0.00122");
    }

    @Test
    void should_price_cached_input_tokens_as_input_when_the_model_has_no_cached_price() {
        // given
        ScriptedChatModel scripted = ScriptedChatModel.builder().reply("ok").usage(1_000, 10).build();
        chat = ChatHarness.custom(InMemoryAdapters.store(), cachingPrompts(scripted, 900), List.of(ChatHarness.agent(null)),
                b -> b.prices(Map.of("scripted", ModelPrice.of("1", "4"))));
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "hi").run().id());

        // then (1,000 * 1 + 10 * 4) / 1e6
        assertThat(outcome.run().usage().cachedInputTokens()).isEqualTo(900);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo("0.00104");
    }
}
