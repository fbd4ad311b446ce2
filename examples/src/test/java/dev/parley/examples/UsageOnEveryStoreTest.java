package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a run used is counted from what the model produced, on every store: a run cancelled or
 * failed mid-stream reports at least one output token per streamed token, and its cost follows.
 */
class UsageOnEveryStoreTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Agent AGENT = Agent.builder("counter").instructions("Count.").build();
    private final EveryStore stores = new EveryStore();

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    private ChatService chat(String store, ChatModel model) {
        ChatStore chatStore = stores.open(store, "usage");
        return stores.track(ChatService.builder().store(chatStore).model(model).agents(List.of(AGENT))
                .prices(Map.of("scripted", ModelPrice.of("0", "1000000"))).build());
    }

    /** {@code count} tokens counting up, a number and a comma each their own token ("1", ",", " 2", ",", ...). */
    private static String[] numbers(int count) {
        String[] tokens = new String[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = i % 2 == 1 ? "," : (i == 0 ? "" : " ") + (i / 2 + 1);
        }
        return tokens;
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2", "postgres"})
    void should_count_every_streamed_token_of_a_cancelled_run(String store) throws Exception {
        // given: 117 tokens streamed (59 numbers and their commas), then the model waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock(numbers(117)).build();
        ChatService chat = chat(store, model);
        ChatThread thread = chat.createThread(new CreateThreadCommand("alice", null, null, null));
        RunId runId = chat.send(SendMessageCommand.text("alice", thread.id(), "count to 200")).run().id();
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        chat.cancelRun("alice", thread.id(), runId);

        // then
        RunOutcome outcome = chat.await("alice", runId, WAIT);
        long sent = tokens(chat, thread, runId);
        assertThat(sent).isEqualTo(117);
        assertThat(outcome.run().usage().outputTokens()).isGreaterThanOrEqualTo(sent);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo(String.valueOf(outcome.run().usage().outputTokens()));
        assertThat(outcome.assistantMessage().text()).endsWith(" 59");
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2", "postgres"})
    void should_count_every_streamed_token_of_a_run_that_fails_mid_stream(String store) throws Exception {
        // given: 175 tokens streamed, then the model fails
        ScriptedChatModel model = ScriptedChatModel.builder()
                .turn(ScriptedChatModel.Script.tokens(numbers(175)).thenFail("model_unavailable", "the model went away")).build();
        ChatService chat = chat(store, model);
        ChatThread thread = chat.createThread(new CreateThreadCommand("alice", null, null, null));

        // when
        RunId runId = chat.send(SendMessageCommand.text("alice", thread.id(), "count to 200")).run().id();

        // then
        RunOutcome outcome = chat.await("alice", runId, WAIT);
        long sent = tokens(chat, thread, runId);
        assertThat(outcome.run().error().code()).isEqualTo("model_unavailable");
        assertThat(sent).isEqualTo(175);
        assertThat(outcome.run().usage().outputTokens()).isGreaterThanOrEqualTo(sent);
        assertThat(outcome.run().costUsd()).isEqualByComparingTo(String.valueOf(outcome.run().usage().outputTokens()));
    }

    private static long tokens(ChatService chat, ChatThread thread, RunId runId) throws InterruptedException {
        long[] count = {0};
        try (RunStream events = chat.subscribe("alice", thread.id(), runId, 0, DisconnectPolicy.CONTINUE)) {
            events.forEach(e -> {
                if (e instanceof RunEvent.Token) {
                    count[0]++;
                }
            });
        }
        return count[0];
    }
}
