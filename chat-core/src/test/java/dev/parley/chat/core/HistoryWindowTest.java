package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.out.AgentLimits;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryWindowTest {
    private static final IdGenerator IDS = IdGenerator.timeOrdered();
    private static final ThreadId THREAD = ThreadId.next(IDS);
    private static final Instant NOW = Instant.parse("2026-01-05T10:00:00Z");

    private long position;

    private Message message(Role role, String text) {
        return new Message(MessageId.next(IDS), THREAD, null, ++position, role, List.of(ContentPart.text(text)),
                MessageStatus.COMPLETED, List.of(), null, null, NOW);
    }

    private Message asking(ToolCall... calls) {
        return Message.assistant(MessageId.next(IDS), THREAD, "", NOW).withToolCalls(calls).atPosition(++position);
    }

    private Message result(String callId, String text) {
        return Message.toolResult(MessageId.next(IDS), THREAD, callId, text, NOW).atPosition(++position);
    }

    private static List<String> texts(List<Message> messages) {
        return messages.stream().map(Message::text).toList();
    }

    @Test
    void should_keep_the_last_n_messages_with_the_user_message_last() {
        // given
        List<Message> prior = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            prior.add(message(i % 2 == 1 ? Role.USER : Role.ASSISTANT, "m" + i));
        }
        Message user = message(Role.USER, "now");

        // when
        List<Message> window = HistoryWindow.build(prior, user, new AgentLimits(8, 4, 0), IDS);

        // then
        assertThat(texts(window)).containsExactly("m8", "m9", "m10", "now");
    }

    @Test
    void should_drop_the_oldest_messages_beyond_the_token_budget() {
        // given messages of 40 characters (10 estimated tokens) and a question of 8 (2 tokens)
        List<Message> prior = List.of(message(Role.USER, "a".repeat(40)), message(Role.ASSISTANT, "b".repeat(40)),
                message(Role.USER, "c".repeat(40)));
        Message user = message(Role.USER, "d".repeat(8));

        // when
        List<Message> window = HistoryWindow.build(prior, user, new AgentLimits(8, 50, 25), IDS);

        // then
        assertThat(texts(window)).containsExactly("b".repeat(40), "c".repeat(40), "d".repeat(8));
    }

    @Test
    void should_keep_the_user_message_even_when_it_alone_exceeds_the_budget() {
        // given
        Message user = message(Role.USER, "x".repeat(400));

        // when
        List<Message> window = HistoryWindow.build(List.of(message(Role.USER, "old")), user, new AgentLimits(8, 50, 10), IDS);

        // then
        assertThat(window).containsExactly(user);
    }

    @Test
    void should_never_start_with_a_tool_result_cut_off_from_its_call() {
        // given a window boundary that falls between a tool call and its results
        ToolCall c1 = new ToolCall("c1", "weather", "{}");
        ToolCall c2 = new ToolCall("c2", "weather", "{}");
        List<Message> prior = List.of(message(Role.USER, "q1"), asking(c1, c2), result("c1", "r1"), result("c2", "r2"),
                message(Role.ASSISTANT, "a1"));
        Message user = message(Role.USER, "q2");

        // when
        List<Message> window = HistoryWindow.build(prior, user, new AgentLimits(8, 4, 0), IDS);

        // then
        assertThat(texts(window)).containsExactly("a1", "q2");
    }

    @Test
    void should_keep_a_tool_call_with_its_results_when_both_fit() {
        // given
        ToolCall c1 = new ToolCall("c1", "weather", "{}");
        List<Message> prior = List.of(message(Role.USER, "q1"), asking(c1), result("c1", "r1"), message(Role.ASSISTANT, "a1"));

        // when
        List<Message> window = HistoryWindow.build(prior, message(Role.USER, "q2"), new AgentLimits(8, 50, 0), IDS);

        // then
        assertThat(window).extracting(Message::role)
                .containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT, Role.USER);
    }

    @Test
    void should_add_a_placeholder_result_for_a_tool_call_that_has_none() {
        // given a call whose result was never stored
        ToolCall c1 = new ToolCall("c1", "weather", "{}");
        List<Message> prior = List.of(message(Role.USER, "q1"), asking(c1));

        // when
        List<Message> window = HistoryWindow.build(prior, message(Role.USER, "q2"), new AgentLimits(8, 50, 0), IDS);

        // then
        assertThat(window).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.USER);
        assertThat(window.get(2).toolCallId()).isEqualTo("c1");
        assertThat(window.get(2).text()).startsWith("error:");
    }

    @Test
    void should_send_the_system_prompt_first_then_the_window() {
        // given an agent that sees the last three messages
        ScriptedChatModel model = ScriptedChatModel.replying("a1", "a2", "a3");
        try (ChatHarness chat = ChatHarness.of(model, new AgentLimits(8, 3, 0))) {
            ChatThread thread = chat.newThread(ALICE);
            chat.awaitEnd(chat.send(thread.id(), "q1").run().id());
            chat.awaitEnd(chat.send(thread.id(), "q2").run().id());

            // when
            chat.awaitEnd(chat.send(thread.id(), "q3").run().id());

            // then
            List<Message> sent = model.lastRequest().messages();
            assertThat(sent.get(0).role()).isEqualTo(Role.SYSTEM);
            assertThat(texts(sent)).containsExactly(ChatHarness.SYSTEM_PROMPT, "q2", "a2", "q3");
            assertThat(model.lastRequest().model()).isEqualTo("scripted");
        }
    }
}
