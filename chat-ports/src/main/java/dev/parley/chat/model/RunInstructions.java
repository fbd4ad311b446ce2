package dev.parley.chat.model;

/**
 * What a run took from its agent: the agent version it ran ({@code 1} for an agent wired in code)
 * and the rendered instructions it sent to the model as the system prompt.
 */
public record RunInstructions(int agentVersion, String instructions) {
    public RunInstructions {
        Require.inRange(agentVersion, 1, Integer.MAX_VALUE, "agentVersion");
        Require.notNull(instructions, "instructions");
    }
}
