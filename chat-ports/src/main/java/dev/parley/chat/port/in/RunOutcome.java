package dev.parley.chat.port.in;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.Step;
import java.util.List;

/**
 * A run with what it produced: its final or partial assistant message (null when none) and its
 * steps. Returned when a run ended, or when waiting for it timed out ({@code run} then not terminal).
 * {@code instructions} is the agent version and the rendered instructions the run used, when the
 * store kept them and the caller asked for the run itself; otherwise null.
 */
public record RunOutcome(Run run, Message assistantMessage, List<Step> steps, RunInstructions instructions) {
    public RunOutcome {
        steps = List.copyOf(steps);
    }

    public RunOutcome(Run run, Message assistantMessage, List<Step> steps) {
        this(run, assistantMessage, steps, null);
    }

    /** The assistant's text, or empty when there is no assistant message. */
    public String responseText() {
        return assistantMessage == null ? "" : assistantMessage.text();
    }
}
