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
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class UsageAndCostTest {
    private static final ToolCall CALL = new ToolCall("call_1", "weather", "{}");
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    private RunOutcome runOnce(String text) {
        ChatThread thread = chat.newThread(ALICE);
        return chat.awaitEnd(chat.send(thread.id(), text).run().id());
    }

    private void start(ChatModel model, Map<String, ModelPrice> prices, Agent agent) {
        chat = ChatHarness.custom(InMemoryAdapters.store(), model, List.of(agent), b -> b.prices(prices));
    }

    @Test
    void should_estimate_usage_at_four_characters_per_token_when_the_model_reports_none() {
        // given a model that echoes "Hello there" (11 characters) after "You are helpful." (16)
        start(ScriptedChatModel.echo(), Map.of(), ChatHarness.agent(null));

        // when
        RunOutcome outcome = runOnce("Hello there");

        // then
        assertThat(outcome.run().usage()).isEqualTo(Usage.estimated(7, 3));
        RunEvent.Done done = (RunEvent.Done) Events.last(chat.events(outcome.run().id()));
        assertThat(done.usage().estimated()).isTrue();
        assertThat(outcome.run().costUsd()).isNull();
    }

    @Test
    void should_sum_reported_usage_over_turns_and_price_it() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(CALL).usage(10, 2).reply("sunny").usage(20, 5).build();
        start(model, Map.of("scripted", ModelPrice.of("2.50", "10.00")),
                ChatHarness.agent(null, TestTool.named("weather", ctx -> "sunny")));

        // when
        RunOutcome outcome = runOnce("Weather?");

        // then
        assertThat(outcome.run().usage()).isEqualTo(Usage.reported(30, 7));
        assertThat(outcome.run().usage().totalTokens()).isEqualTo(37);
        Events.assertUsageAddsUp(outcome);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo("0.000145");
        assertThat(outcome.steps()).filteredOn(s -> s.type() == StepType.MESSAGE_CREATION)
                .extracting(s -> s.usage()).containsExactly(Usage.reported(10, 2), Usage.reported(20, 5));
        RunEvent.Done done = (RunEvent.Done) Events.last(chat.events(outcome.run().id()));
        assertThat(done.usage()).isEqualTo(Usage.reported(30, 7));
        assertThat(done.costUsd()).isEqualByComparingTo("0.000145");
    }

    @Test
    void should_mark_usage_estimated_when_any_turn_reported_none() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(CALL).usage(10, 2).reply("sunny").build();
        start(model, Map.of(), ChatHarness.agent(null, TestTool.named("weather", ctx -> "sunny")));

        // when
        RunOutcome outcome = runOnce("Weather?");

        // then
        assertThat(outcome.run().usage().estimated()).isTrue();
        assertThat(outcome.run().usage().inputTokens()).isGreaterThan(10);
    }

    @Test
    void should_price_runs_by_the_agents_model() {
        // given
        Agent priced = Agent.builder("priced").name("Priced").model("big-model").build();
        start(ScriptedChatModel.builder().reply("ok").usage(1_000_000, 1_000_000).build(),
                Map.of("big-model", ModelPrice.of("1", "2"), "scripted", ModelPrice.of("100", "100")), priced);

        // when
        RunOutcome outcome = runOnce("hi");

        // then
        assertThat(outcome.run().model()).isEqualTo("big-model");
        assertThat(outcome.run().costUsd()).isEqualByComparingTo("3");
    }

    private static String[] numbers(int count) {
        String[] tokens = new String[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = i == 0 ? "1" : ", " + (i + 1);
        }
        return tokens;
    }

    @Test
    void should_count_at_least_one_output_token_per_streamed_token_when_a_run_is_cancelled() throws Exception {
        // given: 83 numbers streamed ("1", ", 2", ", 3", ...: about 3.7 characters each), then the model waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock(numbers(83)).build();
        start(model, Map.of("scripted", ModelPrice.of("0", "1000000")), ChatHarness.agent(null));
        ChatThread thread = chat.newThread(ALICE);
        var runId = chat.send(thread.id(), "count to 100").run().id();
        assertThat(model.awaitBlocked(ChatHarness.WAIT)).isTrue();

        // when
        chat.service.cancelRun(ALICE, thread.id(), runId);

        // then: usage and cost cover every token the client was sent
        RunOutcome outcome = chat.awaitEnd(runId);
        long sent = Events.ofType(chat.events(runId), RunEvent.Token.class).size();
        assertThat(sent).isEqualTo(83);
        assertThat(outcome.run().usage().outputTokens()).isGreaterThanOrEqualTo(sent);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo(String.valueOf(outcome.run().usage().outputTokens()));
        RunEvent.Cancelled cancelled = (RunEvent.Cancelled) Events.last(chat.events(runId));
        assertThat(outcome.assistantMessage().id()).isEqualTo(cancelled.messageId());
    }

    @Test
    void should_count_at_least_one_output_token_per_streamed_token_when_a_run_fails_mid_stream() {
        // given: 60 numbers streamed, then the model fails
        ScriptedChatModel model = ScriptedChatModel.builder()
                .turn(ScriptedChatModel.Script.tokens(numbers(60)).thenFail("model_unavailable", "the model went away")).build();
        start(model, Map.of("scripted", ModelPrice.of("0", "1000000")), ChatHarness.agent(null));

        // when
        RunOutcome outcome = runOnce("count to 100");

        // then
        long sent = Events.ofType(chat.events(outcome.run().id()), RunEvent.Token.class).size();
        assertThat(outcome.run().error().code()).isEqualTo("model_unavailable");
        assertThat(sent).isEqualTo(60);
        assertThat(outcome.run().usage().outputTokens()).isGreaterThanOrEqualTo(sent);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo(String.valueOf(outcome.run().usage().outputTokens()));
    }
}
