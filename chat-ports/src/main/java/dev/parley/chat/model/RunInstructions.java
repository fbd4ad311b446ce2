package dev.parley.chat.model;

/**
 * What a run was given to run with beside its message: the agent version it ran ({@code 1} for an
 * agent wired in code), the rendered instructions it sent to the model as the system prompt, the
 * model settings it sent (the agent's, each overridden by the send's own; {@link ModelSettings#DEFAULT}
 * when neither gave any), and {@code continuedFrom}: when the send continued an earlier answer that
 * its client named by an id of its own (the OpenAI facade's {@code previous_response_id}), that id,
 * at most {@value #MAX_CONTINUED_FROM} characters; else null. {@code approvalToolsWithheld}: the run
 * does not offer the model the agent's tools that require a person's approval (a client that cannot
 * carry an approval sent it, such as the OpenAI facade's Chat Completions).
 */
public record RunInstructions(int agentVersion, String instructions, ModelSettings settings, String continuedFrom,
                              boolean approvalToolsWithheld) {
    /** The longest {@code continuedFrom} kept. */
    public static final int MAX_CONTINUED_FROM = 128;

    public RunInstructions {
        Require.inRange(agentVersion, 1, Integer.MAX_VALUE, "agentVersion");
        Require.notNull(instructions, "instructions");
        settings = settings == null ? ModelSettings.DEFAULT : settings;
        Require.that(continuedFrom == null || (!continuedFrom.isBlank() && continuedFrom.length() <= MAX_CONTINUED_FROM),
                "continuedFrom must be 1 to " + MAX_CONTINUED_FROM + " characters");
    }

    /** Instructions offering every tool of the agent. */
    public RunInstructions(int agentVersion, String instructions, ModelSettings settings, String continuedFrom) {
        this(agentVersion, instructions, settings, continuedFrom, false);
    }

    /** Instructions with the model's default settings, continuing nothing. */
    public RunInstructions(int agentVersion, String instructions) {
        this(agentVersion, instructions, ModelSettings.DEFAULT, null);
    }

    /** These instructions sent with {@code runSettings}. */
    public RunInstructions withSettings(ModelSettings runSettings) {
        return new RunInstructions(agentVersion, instructions, runSettings, continuedFrom, approvalToolsWithheld);
    }

    /** These instructions, recording that the send continued the answer its client calls {@code id} (null: none). */
    public RunInstructions continuing(String id) {
        return new RunInstructions(agentVersion, instructions, settings, id, approvalToolsWithheld);
    }

    /** These instructions, withholding the tools that require approval when {@code withheld}. */
    public RunInstructions withholdingApprovalTools(boolean withheld) {
        return new RunInstructions(agentVersion, instructions, settings, continuedFrom, withheld);
    }
}
