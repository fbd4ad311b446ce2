package dev.parley.chat.port.in;

import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
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

    /**
     * The tool calls the run waits to have decided (its steps {@code awaiting_approval}, in order):
     * empty unless the run's status is {@code requires_action}.
     */
    public List<ToolCall> pendingApprovals() {
        if (run.status() != RunStatus.REQUIRES_ACTION) {
            return List.of();
        }
        return steps.stream().filter(s -> s.status() == StepStatus.AWAITING_APPROVAL).map(Step::toolCall).toList();
    }

    /**
     * Why a completed run's answer ended: {@link FinishReason#LENGTH} when the model stopped it at the
     * output token limit (the answer is kept {@code incomplete}), {@link FinishReason#STOP} otherwise;
     * null unless the run completed with an answer.
     */
    public FinishReason finishReason() {
        if (run.status() != RunStatus.COMPLETED || assistantMessage == null) {
            return null;
        }
        return assistantMessage.status() == MessageStatus.INCOMPLETE ? FinishReason.LENGTH : FinishReason.STOP;
    }

    /** The assistant's text, or empty when there is no assistant message. */
    public String responseText() {
        return assistantMessage == null ? "" : assistantMessage.text();
    }
}
