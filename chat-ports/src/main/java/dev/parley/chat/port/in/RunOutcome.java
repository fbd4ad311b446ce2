package dev.parley.chat.port.in;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.Step;
import java.util.List;

/**
 * A run with what it produced: its final or partial assistant message (null when none) and its
 * steps. Returned when a run ended, or when waiting for it timed out ({@code run} then not terminal).
 */
public record RunOutcome(Run run, Message assistantMessage, List<Step> steps) {
    public RunOutcome {
        steps = List.copyOf(steps);
    }

    /** The assistant's text, or empty when there is no assistant message. */
    public String responseText() {
        return assistantMessage == null ? "" : assistantMessage.text();
    }
}
