package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import java.time.Duration;

/**
 * Bounds on one agent's runs: model rounds with tool calls before the run fails with
 * {@code tool_rounds_exceeded}; the history window as the last {@code historyMessages} messages
 * and, within those, at most {@code historyTokenBudget} estimated tokens (0 for no token budget);
 * how long a tool call waits for approval before it is denied with reason {@code timeout}.
 */
public record AgentLimits(int maxToolRounds, int historyMessages, int historyTokenBudget, Duration approvalTimeout) {
    /** How long a tool call waits for approval unless the agent says otherwise: a day. */
    public static final Duration DEFAULT_APPROVAL_TIMEOUT = Duration.ofSeconds(86_400);
    public static final AgentLimits DEFAULT = new AgentLimits(8, 50, 0);

    public AgentLimits {
        Require.inRange(maxToolRounds, 0, 1000, "maxToolRounds");
        Require.inRange(historyMessages, 1, 100_000, "historyMessages");
        Require.inRange(historyTokenBudget, 0, Integer.MAX_VALUE, "historyTokenBudget");
        approvalTimeout = approvalTimeout == null ? DEFAULT_APPROVAL_TIMEOUT : approvalTimeout;
        Require.that(!approvalTimeout.isNegative() && !approvalTimeout.isZero(), "approvalTimeout must be positive");
    }

    /** Limits with the default approval timeout. */
    public AgentLimits(int maxToolRounds, int historyMessages, int historyTokenBudget) {
        this(maxToolRounds, historyMessages, historyTokenBudget, DEFAULT_APPROVAL_TIMEOUT);
    }

    /** These limits with another approval timeout. */
    public AgentLimits withApprovalTimeout(Duration timeout) {
        return new AgentLimits(maxToolRounds, historyMessages, historyTokenBudget, timeout);
    }
}
