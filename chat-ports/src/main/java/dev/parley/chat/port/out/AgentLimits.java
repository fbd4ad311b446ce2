package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;

/**
 * Bounds on one agent's runs: model rounds with tool calls before the run fails with
 * {@code tool_rounds_exceeded}; the history window as the last {@code historyMessages} messages
 * and, within those, at most {@code historyTokenBudget} estimated tokens (0 for no token budget).
 */
public record AgentLimits(int maxToolRounds, int historyMessages, int historyTokenBudget) {
    public static final AgentLimits DEFAULT = new AgentLimits(8, 50, 0);

    public AgentLimits {
        Require.inRange(maxToolRounds, 0, 1000, "maxToolRounds");
        Require.inRange(historyMessages, 1, 100_000, "historyMessages");
        Require.inRange(historyTokenBudget, 0, Integer.MAX_VALUE, "historyTokenBudget");
    }
}
