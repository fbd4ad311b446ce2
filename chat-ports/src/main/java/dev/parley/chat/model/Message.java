package dev.parley.chat.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A message of a thread. {@code position} is the message's place in its thread (1, 2, 3, ...),
 * assigned by the store on append; it is 0 on a message not yet stored. {@code runId} is null for
 * messages written outside a run. {@code toolCalls} is set on assistant messages that asked for
 * tools; {@code toolCallId} links a {@code tool} message to the call it answers.
 *
 * <p>The factories {@link #user}, {@link #system}, {@link #assistant} and {@link #toolResult} make a
 * completed message that is not stored yet (position 0, no run, no metadata); the {@code in...}
 * and {@code with...} methods return a copy with one component changed:
 * {@code Message.assistant(id, threadId, "Let me look.", now).inRun(runId).withToolCalls(calls)}.
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

    /** A user message of plain text. */
    public static Message user(MessageId id, ThreadId threadId, String text, Instant createdAt) {
        return user(id, threadId, List.of(ContentPart.text(text)), createdAt);
    }

    /** A user message of {@code content} (text and images). */
    public static Message user(MessageId id, ThreadId threadId, List<ContentPart> content, Instant createdAt) {
        return of(id, threadId, Role.USER, content, null, createdAt);
    }

    /** A system message: instructions for the model. */
    public static Message system(MessageId id, ThreadId threadId, String text, Instant createdAt) {
        return of(id, threadId, Role.SYSTEM, List.of(ContentPart.text(text)), null, createdAt);
    }

    /** An assistant message of plain text (possibly empty, when it only asks for tools). */
    public static Message assistant(MessageId id, ThreadId threadId, String text, Instant createdAt) {
        return of(id, threadId, Role.ASSISTANT, List.of(ContentPart.text(text)), null, createdAt);
    }

    /** A tool message: the result {@code text} of the call {@code toolCallId}. */
    public static Message toolResult(MessageId id, ThreadId threadId, String toolCallId, String text, Instant createdAt) {
        return of(id, threadId, Role.TOOL, List.of(ContentPart.text(text)), toolCallId, createdAt);
    }

    private static Message of(MessageId id, ThreadId threadId, Role role, List<ContentPart> content, String toolCallId,
                              Instant createdAt) {
        return new Message(id, threadId, null, 0, role, content, MessageStatus.COMPLETED, List.of(), toolCallId, Map.of(),
                createdAt);
    }

    /** This message as written by the run {@code newRunId} (null: outside a run). */
    public Message inRun(RunId newRunId) {
        return new Message(id, threadId, newRunId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt);
    }

    /** This message with {@code newStatus}. */
    public Message withStatus(MessageStatus newStatus) {
        return new Message(id, threadId, runId, position, role, content, newStatus, toolCalls, toolCallId, metadata, createdAt);
    }

    /** This (assistant) message asking for {@code calls}. */
    public Message withToolCalls(List<ToolCall> calls) {
        return new Message(id, threadId, runId, position, role, content, status, calls, toolCallId, metadata, createdAt);
    }

    /** This (assistant) message asking for {@code calls}. */
    public Message withToolCalls(ToolCall... calls) {
        return withToolCalls(List.of(calls));
    }

    /** This message with {@code newMetadata} instead of its metadata. */
    public Message withMetadata(Map<String, String> newMetadata) {
        return new Message(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, newMetadata, createdAt);
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
