package dev.parley.chat.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A message of a thread. {@code position} is the message's place in its thread (1, 2, 3, ...),
 * assigned by the store on append; it is 0 on a message not yet stored. {@code runId} is null for
 * messages written outside a run. {@code toolCalls} is set on assistant messages that asked for
 * tools; {@code toolCallId} links a {@code tool} message to the call it answers.
 */
public record Message(
        MessageId id,
        ThreadId threadId,
        RunId runId,
        long position,
        Role role,
        List<ContentPart> content,
        MessageStatus status,
        List<ToolCall> toolCalls,
        String toolCallId,
        Map<String, String> metadata,
        Instant createdAt) {

    public Message {
        Require.notNull(id, "id");
        Require.notNull(threadId, "threadId");
        Require.notNegative(position, "position");
        Require.notNull(role, "role");
        content = List.copyOf(Require.notNull(content, "content"));
        Require.notNull(status, "status");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        Require.notNull(createdAt, "createdAt");
        Require.that(role == Role.TOOL ? toolCallId != null && !toolCallId.isBlank() : toolCallId == null,
                "toolCallId is required on tool messages and only there");
        Require.that(toolCalls.isEmpty() || role == Role.ASSISTANT, "only assistant messages carry tool calls");
    }

    /** The concatenated text of the text parts. */
    public String text() {
        if (content.size() == 1 && content.get(0) instanceof ContentPart.Text t) {
            return t.text();
        }
        StringBuilder sb = new StringBuilder();
        for (ContentPart part : content) {
            if (part instanceof ContentPart.Text t) {
                sb.append(t.text());
            }
        }
        return sb.toString();
    }

    /** This message as stored at {@code newPosition}. */
    public Message atPosition(long newPosition) {
        return new Message(id, threadId, runId, newPosition, role, content, status, toolCalls, toolCallId, metadata, createdAt);
    }
}
