package dev.parley.chat.model;

import java.math.BigDecimal;

/**
 * What happens during a run, in order. Every event but {@link Heartbeat} has a {@code seq}, its
 * position in the run's event log, which ends with one terminal event ({@link Done}, {@link Error}
 * or {@link Cancelled}); {@link EventLogRules} states the rules of that log. The wire name of each
 * type is {@link #type()}; field names follow the HTTP contract.
 *
 * <p>Code that must handle every kind of event (serializers, above all) implements a
 * {@link Visitor} and calls {@link #accept}: a new kind of event then fails to compile in each of
 * them instead of slipping past an {@code instanceof} chain.
 */
public sealed interface RunEvent {

    /** Calls the method of {@code visitor} for this event's kind and returns what it returns. */
    <R> R accept(Visitor<R> visitor);

    RunId runId();

    /** Position in the run's event log, from 1; 0 only for {@link Heartbeat}. */
    long seq();

    /** Wire name: {@code run_started}, {@code token}, ... */
    String type();

    /** True for {@link Done}, {@link Error} and {@link Cancelled}. */
    default boolean isTerminal() {
        return false;
    }

    /** False only for heartbeats, which are never stored or replayed. */
    default boolean isReplayable() {
        return true;
    }

    /**
     * One method per kind of event, so that an implementation handles them all. Adding a kind of
     * event adds a method here, which every implementation must then write.
     *
     * @param <R> what a visit returns
     */
    interface Visitor<R> {
        R visit(RunStarted event);

        R visit(Token event);

        R visit(Thinking event);

        R visit(TraceStart event);

        R visit(TraceUpdate event);

        R visit(TraceEnd event);

        R visit(ApprovalRequired event);

        R visit(ApprovalDecided event);

        R visit(Done event);

        R visit(Error event);

        R visit(Cancelled event);

        R visit(Heartbeat event);
    }

    private static void check(RunId runId, long seq) {
        Require.notNull(runId, "runId");
        if (seq < 1) { // the message is built only when it is needed: this runs for every event
            throw new IllegalArgumentException("seq counts from 1, was " + seq);
        }
    }

    /** The run began executing; {@code messageId} is the user message that triggered it. */
    record RunStarted(RunId runId, long seq, ThreadId threadId, MessageId messageId, String agentId) implements RunEvent {
        public RunStarted {
            check(runId, seq);
            Require.notNull(threadId, "threadId");
            Require.notNull(messageId, "messageId");
            Require.notBlank(agentId, "agentId");
        }

        @Override
        public String type() {
            return "run_started";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** A delta of answer text. */
    record Token(RunId runId, long seq, String content) implements RunEvent {
        public Token {
            check(runId, seq);
            Require.notNull(content, "content");
        }

        @Override
        public String type() {
            return "token";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** A delta of reasoning text, never part of the answer. */
    record Thinking(RunId runId, long seq, String content) implements RunEvent {
        public Thinking {
            check(runId, seq);
            Require.notNull(content, "content");
        }

        @Override
        public String type() {
            return "thinking";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** A tool call began as step {@code stepId}. */
    record TraceStart(RunId runId, long seq, StepId stepId, ToolCall toolCall) implements RunEvent {
        public TraceStart {
            check(runId, seq);
            Require.notNull(stepId, "stepId");
            Require.notNull(toolCall, "toolCall");
        }

        @Override
        public String type() {
            return "trace_start";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** Progress reported by a long-running tool. */
    record TraceUpdate(RunId runId, long seq, StepId stepId, String content) implements RunEvent {
        public TraceUpdate {
            check(runId, seq);
            Require.notNull(stepId, "stepId");
            Require.notNull(content, "content");
        }

        @Override
        public String type() {
            return "trace_update";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** A tool call ended: {@code output} when completed, {@code error} when failed or cancelled. */
    record TraceEnd(RunId runId, long seq, StepId stepId, StepStatus status, String output, String error, long latencyMs)
            implements RunEvent {
        public TraceEnd {
            check(runId, seq);
            Require.notNull(stepId, "stepId");
            Require.notNull(status, "status");
            Require.notNegative(latencyMs, "latencyMs");
        }

        @Override
        public String type() {
            return "trace_end";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /**
     * The tool call of step {@code stepId} waits for a person's decision; the run waits (status
     * {@code requires_action}) until every such call of its turn is decided. Not terminal.
     */
    record ApprovalRequired(RunId runId, long seq, StepId stepId, ToolCall toolCall) implements RunEvent {
        public ApprovalRequired {
            check(runId, seq);
            Require.notNull(stepId, "stepId");
            Require.notNull(toolCall, "toolCall");
        }

        @Override
        public String type() {
            return "approval_required";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /**
     * A person (or the timeout, with reason {@code timeout}) decided the tool call {@code toolCallId}
     * of step {@code stepId}; {@code reason} may be null.
     */
    record ApprovalDecided(RunId runId, long seq, StepId stepId, String toolCallId, ApprovalDecision decision, String reason)
            implements RunEvent {
        public ApprovalDecided {
            check(runId, seq);
            Require.notNull(stepId, "stepId");
            Require.notBlank(toolCallId, "toolCallId");
            Require.notNull(decision, "decision");
        }

        @Override
        public String type() {
            return "approval_decided";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /**
     * The run completed; {@code messageId} is the assistant's final message. {@code costUsd} may be null.
     * {@code finishReason}: {@link FinishReason#LENGTH} when the answer stopped at the output token
     * limit (the message is then {@code incomplete}); {@link FinishReason#STOP} otherwise (and when null).
     */
    record Done(RunId runId, long seq, ThreadId threadId, MessageId messageId, Usage usage, BigDecimal costUsd,
                FinishReason finishReason) implements RunEvent {
        public Done {
            check(runId, seq);
            Require.notNull(threadId, "threadId");
            Require.notNull(messageId, "messageId");
            Require.notNull(usage, "usage");
            finishReason = finishReason == null ? FinishReason.STOP : finishReason;
        }

        /** A run whose answer the model finished. */
        public Done(RunId runId, long seq, ThreadId threadId, MessageId messageId, Usage usage, BigDecimal costUsd) {
            this(runId, seq, threadId, messageId, usage, costUsd, FinishReason.STOP);
        }

        @Override
        public String type() {
            return "done";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }

        @Override
        public boolean isTerminal() {
            return true;
        }
    }

    /** The run failed; {@code message} is sanitized. */
    record Error(RunId runId, long seq, String code, String message) implements RunEvent {
        public Error {
            check(runId, seq);
            Require.notBlank(code, "code");
            Require.notNull(message, "message");
        }

        @Override
        public String type() {
            return "error";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }

        @Override
        public boolean isTerminal() {
            return true;
        }
    }

    /** The run was cancelled; {@code messageId} names the kept partial message, or is null. */
    record Cancelled(RunId runId, long seq, MessageId messageId) implements RunEvent {
        public Cancelled {
            check(runId, seq);
        }

        @Override
        public String type() {
            return "cancelled";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }

        @Override
        public boolean isTerminal() {
            return true;
        }
    }

    /** Keeps an idle stream open. Not part of the log: no seq, never stored, never replayed. */
    record Heartbeat(RunId runId) implements RunEvent {
        public Heartbeat {
            Require.notNull(runId, "runId");
        }

        @Override
        public long seq() {
            return 0;
        }

        @Override
        public String type() {
            return "heartbeat";
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }

        @Override
        public boolean isReplayable() {
            return false;
        }
    }
}
