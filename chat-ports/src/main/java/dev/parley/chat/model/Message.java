package dev.parley.chat.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A message of a thread. A thread's messages form a tree: {@code parentId} is the message this one
 * follows (null for a first message), and {@code position} is its depth in that tree (1, 2, 3, ...),
 * which is its place on every path from the root through it; both are assigned by the store on
 * append, and the position is 0 on a message not yet stored. {@code thinking} is the reasoning text
 * the model gave with an assistant message and {@code usage} the model turn that wrote it (both null
 * otherwise); {@code versions} is the message's place among its siblings of the same role, filled
 * in by the store's reads. {@code runId} is null for
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
        Instant createdAt,
        MessageId parentId,
        String thinking,
        Usage usage,
        Versions versions) {

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
        versions = versions == null ? Versions.ONLY : versions;
        Require.that(role == Role.TOOL ? toolCallId != null && !toolCallId.isBlank() : toolCallId == null,
                "toolCallId is required on tool messages and only there");
        Require.that(toolCalls.isEmpty() || role == Role.ASSISTANT, "only assistant messages carry tool calls");
    }

    /** A message without a parent, thinking or usage (the first of its branch, as the store has not placed it yet). */
    public Message(MessageId id, ThreadId threadId, RunId runId, long position, Role role, List<ContentPart> content,
                   MessageStatus status, List<ToolCall> toolCalls, String toolCallId, Map<String, String> metadata,
                   Instant createdAt) {
        this(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt, null, null, null,
                Versions.ONLY);
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
        return new Message(id, threadId, newRunId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt, parentId, thinking, usage, versions);
    }

    /** This message with {@code newStatus}. */
    public Message withStatus(MessageStatus newStatus) {
        return new Message(id, threadId, runId, position, role, content, newStatus, toolCalls, toolCallId, metadata, createdAt, parentId, thinking, usage, versions);
    }

    /** This (assistant) message asking for {@code calls}. */
    public Message withToolCalls(List<ToolCall> calls) {
        return new Message(id, threadId, runId, position, role, content, status, calls, toolCallId, metadata, createdAt, parentId, thinking, usage, versions);
    }

    /** This (assistant) message asking for {@code calls}. */
    public Message withToolCalls(ToolCall... calls) {
        return withToolCalls(List.of(calls));
    }

    /** This message with {@code newMetadata} instead of its metadata. */
    public Message withMetadata(Map<String, String> newMetadata) {
        return new Message(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, newMetadata, createdAt, parentId, thinking, usage, versions);
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
        return new Message(id, threadId, runId, newPosition, role, content, status, toolCalls, toolCallId, metadata, createdAt,
                parentId, thinking, usage, versions);
    }

    /** This message as a child of {@code newParentId} (null: a first message). */
    public Message withParent(MessageId newParentId) {
        return new Message(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt,
                newParentId, thinking, usage, versions);
    }

    /** This (assistant) message with the reasoning text the model gave with it (null or empty: none). */
    public Message withThinking(String newThinking) {
        return new Message(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt,
                parentId, newThinking == null || newThinking.isEmpty() ? null : newThinking, usage, versions);
    }

    /** This (assistant) message with the usage of the model turn that wrote it (null: none). */
    public Message withUsage(Usage newUsage) {
        return new Message(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt,
                parentId, thinking, newUsage, versions);
    }

    /** This message with its place among its versions. */
    public Message withVersions(Versions newVersions) {
        return new Message(id, threadId, runId, position, role, content, status, toolCalls, toolCallId, metadata, createdAt,
                parentId, thinking, usage, newVersions);
    }

    /**
     * A message's place among its versions: the messages of the same role with the same parent (or,
     * for first messages, the thread's other first messages), 1-based in creation order.
     */
    public record Versions(int index, int count) {
        /** The only version of a message. */
        public static final Versions ONLY = new Versions(1, 1);

        public Versions {
            Require.that(index >= 1 && index <= count, "index must be within 1..count");
        }
    }
}
