package dev.parley.adapter.openai;

import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.out.ModelRequest;
import java.time.Instant;
import java.util.List;

/** Builders for the domain messages a model request carries. */
final class Conversations {
    private static final IdGenerator IDS = IdGenerator.timeOrdered();
    private static final ThreadId THREAD = ThreadId.next(IDS);

    private Conversations() {
    }

    static Message system(String text) {
        return message(Role.SYSTEM, List.of(ContentPart.text(text)), List.of(), null);
    }

    static Message user(String text) {
        return message(Role.USER, List.of(ContentPart.text(text)), List.of(), null);
    }

    static Message user(ContentPart... parts) {
        return message(Role.USER, List.of(parts), List.of(), null);
    }

    static Message assistant(String text, ToolCall... calls) {
        List<ContentPart> content = text.isEmpty() ? List.of() : List.of(ContentPart.text(text));
        return message(Role.ASSISTANT, content, List.of(calls), null);
    }

    static Message toolResult(String callId, String output) {
        return message(Role.TOOL, List.of(ContentPart.text(output)), List.of(), callId);
    }

    static ModelRequest ask(String question) {
        return new ModelRequest(null, List.of(system("You are helpful."), user(question)), List.of());
    }

    static ModelRequest request(List<Message> messages, ToolSpec... tools) {
        return new ModelRequest(null, messages, List.of(tools));
    }

    private static Message message(Role role, List<ContentPart> content, List<ToolCall> calls, String toolCallId) {
        return new Message(MessageId.next(IDS), THREAD, null, 0, role, content, MessageStatus.COMPLETED, calls,
                toolCallId, null, Instant.parse("2026-11-22T10:30:00Z"));
    }
}
