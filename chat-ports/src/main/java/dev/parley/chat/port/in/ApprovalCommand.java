package dev.parley.chat.port.in;

import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;

/**
 * {@code userId}'s decision on the tool call {@code toolCallId} of a run waiting for approval;
 * {@code reason} (optional, at most {@link #MAX_REASON} code points) goes to the model with a denial.
 */
public record ApprovalCommand(String userId, ThreadId threadId, RunId runId, String toolCallId, ApprovalDecision decision,
                              String reason) {
    public static final int MAX_REASON = 2_000;

    public ApprovalCommand {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        Require.notNull(runId, "runId");
        Require.notNull(toolCallId, "toolCallId");
        Require.notNull(decision, "decision");
    }
}
