package dev.parley.chat.model;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * One execution of an agent over a thread, triggered by {@code userMessageId}. Status changes are
 * methods that return the new run and throw {@link IllegalStateException} on an illegal
 * transition: a run never leaves a terminal status. {@code assistantMessageId} names the final
 * (or partial) assistant message once there is one; {@code costUsd} is null when the model has
 * no price. {@code agentVersion} is the version of the agent whose instructions the run sent (null for a run
 * stored before versions were recorded).
 */
public record Run(
        RunId id,
        ThreadId threadId,
        String agentId,
        String model,
        MessageId userMessageId,
        RunStatus status,
        MessageId assistantMessageId,
        Usage usage,
        BigDecimal costUsd,
        RunError error,
        Instant createdAt,
        Instant startedAt,
        Instant completedAt,
        Integer agentVersion) {

    public Run {
        Require.notNull(id, "id");
        Require.notNull(threadId, "threadId");
        Require.notBlank(agentId, "agentId");
        Require.notNull(userMessageId, "userMessageId");
        Require.notNull(status, "status");
        usage = usage == null ? Usage.ZERO : usage;
        Require.notNull(createdAt, "createdAt");
        Require.that(status.isTerminal() == (completedAt != null), "completedAt is set exactly on terminal runs");
        Require.that(status != RunStatus.FAILED || error != null, "a failed run carries its error");
        Require.that(agentVersion == null || agentVersion >= 1, "agentVersion must be at least 1");
    }

    /** A run without a recorded agent version. */
    public Run(RunId id, ThreadId threadId, String agentId, String model, MessageId userMessageId, RunStatus status,
               MessageId assistantMessageId, Usage usage, BigDecimal costUsd, RunError error, Instant createdAt, Instant startedAt,
               Instant completedAt) {
        this(id, threadId, agentId, model, userMessageId, status, assistantMessageId, usage, costUsd, error, createdAt, startedAt,
                completedAt, null);
    }

    public static Run queued(RunId id, ThreadId threadId, String agentId, String model, MessageId userMessageId, Instant now) {
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.QUEUED, null, Usage.ZERO, null, null, now, null, null,
                null);
    }

    /** This run, recording that it sent version {@code version} of its agent's instructions. */
    public Run withAgentVersion(int version) {
        return new Run(id, threadId, agentId, model, userMessageId, status, assistantMessageId, usage, costUsd, error, createdAt,
                startedAt, completedAt, version);
    }

    public boolean isTerminal() {
        return status.isTerminal();
    }

    /** {@code queued -> in_progress}. */
    public Run started(Instant now) {
        require(status == RunStatus.QUEUED, "start");
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.IN_PROGRESS, null, usage, costUsd, null, createdAt, now, null,
                agentVersion);
    }

    /** {@code in_progress -> requires_action}: the run waits for decisions on tool calls. */
    public Run requiringAction() {
        require(status == RunStatus.IN_PROGRESS, "pause");
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.REQUIRES_ACTION, null, usage, costUsd, null, createdAt,
                startedAt, null, agentVersion);
    }

    /** {@code requires_action -> in_progress}: every pending tool call was decided. */
    public Run resumed() {
        require(status == RunStatus.REQUIRES_ACTION, "resume");
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.IN_PROGRESS, null, usage, costUsd, null, createdAt,
                startedAt, null, agentVersion);
    }

    /** {@code in_progress -> completed}. */
    public Run completed(Instant now, MessageId assistantMessage, Usage totalUsage, BigDecimal cost) {
        require(status == RunStatus.IN_PROGRESS, "complete");
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.COMPLETED, assistantMessage, totalUsage, cost, null,
                createdAt, startedAt, now, agentVersion);
    }

    /** {@code queued | in_progress | requires_action -> failed}; {@code partialMessage} may be null. */
    public Run failed(Instant now, RunError failure, MessageId partialMessage, Usage totalUsage, BigDecimal cost) {
        require(!isTerminal(), "fail");
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.FAILED, partialMessage, totalUsage, cost,
                Require.notNull(failure, "failure"), createdAt, startedAt, now, agentVersion);
    }

    /** {@code queued | in_progress | requires_action -> cancelled}; {@code partialMessage} may be null. */
    public Run cancelled(Instant now, MessageId partialMessage, Usage totalUsage, BigDecimal cost) {
        require(!isTerminal(), "cancel");
        return new Run(id, threadId, agentId, model, userMessageId, RunStatus.CANCELLED, partialMessage, totalUsage, cost, null,
                createdAt, startedAt, now, agentVersion);
    }

    private void require(boolean legal, String action) {
        if (!legal) {
            throw new IllegalStateException("cannot " + action + " run " + id + " in status " + status.wireName());
        }
    }
}
