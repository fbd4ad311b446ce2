package dev.parley.chat.testkit;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builders of domain records for tests, with sensible defaults and explicit, millisecond-precise
 * times (every store keeps at least that), e.g.
 * {@code Fixtures.aThread().ownedBy("alice").updatedAt(Fixtures.at(5)).build()}.
 * Each {@code build()} without an explicit id makes a new one.
 */
public final class Fixtures {
    /** The reference instant of fixtures: 2026-01-01T00:00:00Z. */
    public static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** Emoji with skin tone, a ZWJ family sequence and a flag (astral code points). */
    public static final String EMOJI = "Hi 👋🏽 family 👨‍👩‍👧‍👦 flag 🇺🇦 math 𝔸";
    /** Right-to-left Arabic and Hebrew with a bidi mark. */
    public static final String RTL = "مرحبا بالعالم \u200F שלום עולם";
    /** Combining marks, decomposed and stacked (must not be normalized by a store). */
    public static final String COMBINING = "Cafe\u0301 n\u0303 Z\u0351\u0352\u0353 a\u0308\u0304";
    /** All of the above plus CJK, quotes, backslashes, a NUL-free control mix and a newline. */
    public static final String UNICODE = EMOJI + " | " + RTL + " | " + COMBINING + " | 中文 日本語 한국어 | \"q\" 'a' \\ \t tab\nline2";

    private static final IdGenerator IDS = IdGenerator.timeOrdered();

    private Fixtures() {}

    /** {@link #T0} plus {@code millis}. */
    public static Instant at(long millis) {
        return T0.plusMillis(millis);
    }

    public static ThreadId threadId() {
        return ThreadId.next(IDS);
    }

    public static MessageId messageId() {
        return MessageId.next(IDS);
    }

    public static RunId runId() {
        return RunId.next(IDS);
    }

    public static StepId stepId() {
        return StepId.next(IDS);
    }

    /**
     * A text of exactly {@code codePoints} code points mixing ASCII, accented letters and astral
     * emoji (so its UTF-16 length is larger).
     */
    public static String longText(int codePoints) {
        int[] alphabet = "abc déf ghï 😀 ✓ 中 ".codePoints().toArray();
        StringBuilder sb = new StringBuilder(codePoints * 2);
        for (int i = 0; i < codePoints; i++) {
            sb.appendCodePoint(alphabet[i % alphabet.length]);
        }
        return sb.toString();
    }

    public static ThreadBuilder aThread() {
        return new ThreadBuilder();
    }

    public static MessageBuilder aMessage() {
        return new MessageBuilder();
    }

    public static RunBuilder aRun() {
        return new RunBuilder();
    }

    public static StepBuilder aStep() {
        return new StepBuilder();
    }

    public static IdempotencyRecordBuilder anIdempotencyRecord() {
        return new IdempotencyRecordBuilder();
    }

    /** Gap-free events of {@code runId}, numbered from 1 (or after {@link EventsBuilder#after}). */
    public static EventsBuilder eventsOf(RunId runId) {
        return new EventsBuilder(runId);
    }

    /** Builds a {@link ChatThread}; defaults: owner {@code alice}, agent {@code assistant}, no title, at {@link #T0}. */
    public static final class ThreadBuilder {
        private ThreadId id;
        private String ownerId = "alice";
        private String agentId = "assistant";
        private String title;
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private Instant createdAt = T0;
        private Instant updatedAt;
        private Instant deletedAt;

        private ThreadBuilder() {}

        public ThreadBuilder withId(ThreadId value) {
            this.id = value;
            return this;
        }

        public ThreadBuilder ownedBy(String owner) {
            this.ownerId = owner;
            return this;
        }

        public ThreadBuilder withAgent(String agent) {
            this.agentId = agent;
            return this;
        }

        public ThreadBuilder titled(String value) {
            this.title = value;
            return this;
        }

        public ThreadBuilder withMetadata(String key, String value) {
            this.metadata.put(key, value);
            return this;
        }

        public ThreadBuilder withMetadata(Map<String, String> values) {
            this.metadata.putAll(values);
            return this;
        }

        /** Creation time; also the update time unless {@link #updatedAt} is given. */
        public ThreadBuilder createdAt(Instant value) {
            this.createdAt = value;
            return this;
        }

        public ThreadBuilder updatedAt(Instant value) {
            this.updatedAt = value;
            return this;
        }

        public ThreadBuilder deletedAt(Instant value) {
            this.deletedAt = value;
            return this;
        }

        public ChatThread build() {
            return new ChatThread(id != null ? id : threadId(), ownerId, agentId, title, metadata, createdAt,
                    updatedAt != null ? updatedAt : createdAt, deletedAt);
        }
    }

    /** Builds a {@link Message}; defaults: a completed user message "Hello" at {@link #T0}, position 0. */
    public static final class MessageBuilder {
        private MessageId id;
        private ThreadId threadId;
        private RunId runId;
        private Role role = Role.USER;
        private List<ContentPart> content = List.of(ContentPart.text("Hello"));
        private MessageStatus status = MessageStatus.COMPLETED;
        private List<ToolCall> toolCalls = List.of();
        private String toolCallId;
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private Instant createdAt = T0;

        private MessageBuilder() {}

        public MessageBuilder withId(MessageId value) {
            this.id = value;
            return this;
        }

        public MessageBuilder inThread(ThreadId value) {
            this.threadId = value;
            return this;
        }

        public MessageBuilder inThread(ChatThread thread) {
            return inThread(thread.id());
        }

        public MessageBuilder inRun(RunId value) {
            this.runId = value;
            return this;
        }

        public MessageBuilder from(Role value) {
            this.role = value;
            return this;
        }

        public MessageBuilder fromAssistant() {
            return from(Role.ASSISTANT);
        }

        public MessageBuilder withText(String text) {
            this.content = List.of(ContentPart.text(text));
            return this;
        }

        public MessageBuilder withContent(ContentPart... parts) {
            this.content = List.of(parts);
            return this;
        }

        public MessageBuilder incomplete() {
            this.status = MessageStatus.INCOMPLETE;
            return this;
        }

        /** An assistant message asking for {@code calls}. */
        public MessageBuilder withToolCalls(ToolCall... calls) {
            this.role = Role.ASSISTANT;
            this.toolCalls = List.of(calls);
            return this;
        }

        /** A {@code tool} message carrying the result of call {@code callId}. */
        public MessageBuilder answeringToolCall(String callId) {
            this.role = Role.TOOL;
            this.toolCallId = callId;
            return this;
        }

        public MessageBuilder withMetadata(String key, String value) {
            this.metadata.put(key, value);
            return this;
        }

        public MessageBuilder createdAt(Instant value) {
            this.createdAt = value;
            return this;
        }

        public Message build() {
            if (threadId == null) {
                throw new IllegalStateException("aMessage() needs inThread(...)");
            }
            return new Message(id != null ? id : messageId(), threadId, runId, 0, role, content, status, toolCalls,
                    toolCallId, metadata, createdAt);
        }
    }

    /** Builds a {@link Run}; defaults: queued, agent {@code assistant}, model {@code scripted}, created at {@link #T0}. */
    public static final class RunBuilder {
        private RunId id;
        private ThreadId threadId;
        private String agentId = "assistant";
        private String model = "scripted";
        private MessageId userMessageId;
        private RunStatus status = RunStatus.QUEUED;
        private Instant createdAt = T0;
        private MessageId assistantMessageId;
        private Usage usage = Usage.ZERO;
        private BigDecimal cost;
        private RunError error;

        private RunBuilder() {}

        public RunBuilder withId(RunId value) {
            this.id = value;
            return this;
        }

        public RunBuilder onThread(ThreadId value) {
            this.threadId = value;
            return this;
        }

        public RunBuilder onThread(ChatThread thread) {
            return onThread(thread.id());
        }

        public RunBuilder withAgent(String value) {
            this.agentId = value;
            return this;
        }

        public RunBuilder withModel(String value) {
            this.model = value;
            return this;
        }

        public RunBuilder forMessage(MessageId value) {
            this.userMessageId = value;
            return this;
        }

        /** Creation time; a started run starts 1 ms later and a finished one ends 2 ms later. */
        public RunBuilder createdAt(Instant value) {
            this.createdAt = value;
            return this;
        }

        public RunBuilder queued() {
            this.status = RunStatus.QUEUED;
            return this;
        }

        public RunBuilder inProgress() {
            this.status = RunStatus.IN_PROGRESS;
            return this;
        }

        public RunBuilder completed(MessageId assistantMessage, Usage totalUsage, BigDecimal costUsd) {
            this.status = RunStatus.COMPLETED;
            this.assistantMessageId = assistantMessage;
            this.usage = totalUsage;
            this.cost = costUsd;
            return this;
        }

        public RunBuilder completed() {
            return completed(messageId(), Usage.reported(10, 5), new BigDecimal("0.00012345"));
        }

        public RunBuilder failed(String code, String message) {
            this.status = RunStatus.FAILED;
            this.error = new RunError(code, message);
            return this;
        }

        public RunBuilder cancelled() {
            this.status = RunStatus.CANCELLED;
            return this;
        }

        public Run build() {
            if (threadId == null) {
                throw new IllegalStateException("aRun() needs onThread(...)");
            }
            Run run = Run.queued(id != null ? id : runId(), threadId, agentId, model,
                    userMessageId != null ? userMessageId : messageId(), createdAt);
            if (status == RunStatus.QUEUED) {
                return run;
            }
            run = run.started(createdAt.plusMillis(1));
            Instant end = createdAt.plusMillis(2);
            switch (status) {
                case COMPLETED:
                    return run.completed(end, assistantMessageId, usage, cost);
                case FAILED:
                    return run.failed(end, error, assistantMessageId, usage, cost);
                case CANCELLED:
                    return run.cancelled(end, assistantMessageId, usage, cost);
                default:
                    return run;
            }
        }
    }

    /** Builds a {@link Step}; defaults: an in-progress tool call of {@code calculator} at position 1, started at {@link #T0}. */
    public static final class StepBuilder {
        private StepId id;
        private RunId runId;
        private int position = 1;
        private ToolCall toolCall = new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}");
        private StepStatus status = StepStatus.IN_PROGRESS;
        private String output;
        private String error;
        private Usage usage = Usage.ZERO;
        private Instant startedAt = T0;

        private StepBuilder() {}

        public StepBuilder withId(StepId value) {
            this.id = value;
            return this;
        }

        public StepBuilder ofRun(RunId value) {
            this.runId = value;
            return this;
        }

        public StepBuilder ofRun(Run run) {
            return ofRun(run.id());
        }

        public StepBuilder atPosition(int value) {
            this.position = value;
            return this;
        }

        public StepBuilder callingTool(ToolCall call) {
            this.toolCall = call;
            return this;
        }

        public StepBuilder messageCreation() {
            this.toolCall = null;
            return this;
        }

        public StepBuilder startedAt(Instant value) {
            this.startedAt = value;
            return this;
        }

        public StepBuilder withUsage(Usage value) {
            this.usage = value;
            return this;
        }

        /** Finished 25 ms after its start with {@code result}. */
        public StepBuilder completed(String result) {
            this.status = StepStatus.COMPLETED;
            this.output = result;
            return this;
        }

        public StepBuilder failed(String failure) {
            this.status = StepStatus.FAILED;
            this.error = failure;
            return this;
        }

        public StepBuilder cancelled() {
            this.status = StepStatus.CANCELLED;
            return this;
        }

        public Step build() {
            if (runId == null) {
                throw new IllegalStateException("aStep() needs ofRun(...)");
            }
            StepType type = toolCall == null ? StepType.MESSAGE_CREATION : StepType.TOOL_CALL;
            Instant end = status.isTerminal() ? startedAt.plusMillis(25) : null;
            return new Step(id != null ? id : stepId(), runId, position, type, status, toolCall, output, error, usage,
                    startedAt, end);
        }
    }
}
