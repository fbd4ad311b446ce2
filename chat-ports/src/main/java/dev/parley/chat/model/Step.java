package dev.parley.chat.model;

import java.time.Duration;
import java.time.Instant;

/**
 * One step of a run: a model turn that produced a message ({@code message_creation}) or one tool
 * call ({@code tool_call}, with {@code toolCall}, and {@code output} or {@code error} once done).
 * {@code position} orders the steps of a run (1, 2, 3, ...).
 */
public record Step(
        StepId id,
        RunId runId,
        int position,
        StepType type,
        StepStatus status,
        ToolCall toolCall,
        String output,
        String error,
        Usage usage,
        Instant startedAt,
        Instant completedAt) {

    public Step {
        Require.notNull(id, "id");
        Require.notNull(runId, "runId");
        Require.notNull(type, "type");
        Require.notNull(status, "status");
        Require.that((type == StepType.TOOL_CALL) == (toolCall != null), "toolCall is set exactly on tool_call steps");
        usage = usage == null ? Usage.ZERO : usage;
        Require.notNull(startedAt, "startedAt");
        Require.that(status.isTerminal() == (completedAt != null), "completedAt is set exactly on finished steps");
    }

    public static Step toolCall(StepId id, RunId runId, int position, ToolCall call, Instant now) {
        return new Step(id, runId, position, StepType.TOOL_CALL, StepStatus.IN_PROGRESS, call, null, null, Usage.ZERO, now, null);
    }

    /** A tool call that waits for a person's decision before it may run. */
    public static Step awaitingApproval(StepId id, RunId runId, int position, ToolCall call, Instant now) {
        return new Step(id, runId, position, StepType.TOOL_CALL, StepStatus.AWAITING_APPROVAL, call, null, null, Usage.ZERO, now, null);
    }

    /** {@code awaiting_approval -> in_progress}: approved, it runs when the run resumes. */
    public Step approved() {
        requireAwaiting();
        return new Step(id, runId, position, type, StepStatus.IN_PROGRESS, toolCall, null, null, usage, startedAt, null);
    }

    /**
     * An approved call as it starts to run on the resumed run: its latency counts from {@code now},
     * not from the pause.
     */
    public Step runningFrom(Instant now) {
        if (status != StepStatus.IN_PROGRESS || type != StepType.TOOL_CALL) {
            throw new IllegalStateException("step " + id + " is not a tool call in progress but " + status.wireName());
        }
        return new Step(id, runId, position, type, status, toolCall, null, null, usage, Require.notNull(now, "now"), null);
    }

    /** {@code awaiting_approval -> denied}: never runs; {@code reason} (may be null) is kept as its error. */
    public Step denied(Instant now, String reason) {
        requireAwaiting();
        return new Step(id, runId, position, type, StepStatus.DENIED, toolCall, null, reason, usage, startedAt, now);
    }

    public static Step messageCreation(StepId id, RunId runId, int position, Instant now) {
        return new Step(id, runId, position, StepType.MESSAGE_CREATION, StepStatus.IN_PROGRESS, null, null, null, Usage.ZERO, now, null);
    }

    public Step completed(Instant now, String result, Usage stepUsage) {
        require();
        return new Step(id, runId, position, type, StepStatus.COMPLETED, toolCall, result, null, stepUsage, startedAt, now);
    }

    public Step failed(Instant now, String failure, Usage stepUsage) {
        require();
        return new Step(id, runId, position, type, StepStatus.FAILED, toolCall, null, failure, stepUsage, startedAt, now);
    }

    public Step cancelled(Instant now, Usage stepUsage) {
        require();
        return new Step(id, runId, position, type, StepStatus.CANCELLED, toolCall, null, null, stepUsage, startedAt, now);
    }

    /** Milliseconds from start to end, or null while in progress. */
    public Long latencyMs() {
        return completedAt == null ? null : Duration.between(startedAt, completedAt).toMillis();
    }

    private void requireAwaiting() {
        if (status != StepStatus.AWAITING_APPROVAL) {
            throw new IllegalStateException("step " + id + " is not awaiting approval but " + status.wireName());
        }
    }

    private void require() {
        if (status.isTerminal()) {
            throw new IllegalStateException("step " + id + " already ended as " + status.wireName());
        }
    }
}
