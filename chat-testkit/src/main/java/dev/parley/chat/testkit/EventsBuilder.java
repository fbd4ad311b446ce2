package dev.parley.chat.testkit;

import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Appends events with consecutive seqs; {@link #build()} returns them in order. */
public final class EventsBuilder {
    private final RunId runId;
    private final List<RunEvent> events = new ArrayList<>();
    private long seq;

    EventsBuilder(RunId runId) {
        this.runId = runId;
    }

    /** Numbers the next event {@code lastSeq + 1}. */
    public EventsBuilder after(long lastSeq) {
        this.seq = lastSeq;
        return this;
    }

    public EventsBuilder started(ThreadId threadId, MessageId userMessage) {
        events.add(new RunEvent.RunStarted(runId, ++seq, threadId, userMessage, "assistant"));
        return this;
    }

    public EventsBuilder tokens(String... deltas) {
        Arrays.stream(deltas).forEach(d -> events.add(new RunEvent.Token(runId, ++seq, d)));
        return this;
    }

    public EventsBuilder thinking(String delta) {
        events.add(new RunEvent.Thinking(runId, ++seq, delta));
        return this;
    }

    public EventsBuilder traceStart(StepId stepId, ToolCall call) {
        events.add(new RunEvent.TraceStart(runId, ++seq, stepId, call));
        return this;
    }

    public EventsBuilder traceUpdate(StepId stepId, String progress) {
        events.add(new RunEvent.TraceUpdate(runId, ++seq, stepId, progress));
        return this;
    }

    public EventsBuilder traceEnd(StepId stepId, StepStatus status, String output, String error, long latencyMs) {
        events.add(new RunEvent.TraceEnd(runId, ++seq, stepId, status, output, error, latencyMs));
        return this;
    }

    public EventsBuilder approvalRequired(StepId stepId, ToolCall call) {
        events.add(new RunEvent.ApprovalRequired(runId, ++seq, stepId, call));
        return this;
    }

    public EventsBuilder approvalDecided(StepId stepId, String toolCallId, ApprovalDecision decision, String reason) {
        events.add(new RunEvent.ApprovalDecided(runId, ++seq, stepId, toolCallId, decision, reason));
        return this;
    }

    public EventsBuilder done(ThreadId threadId, MessageId assistantMessage, Usage usage, BigDecimal costUsd) {
        events.add(new RunEvent.Done(runId, ++seq, threadId, assistantMessage, usage, costUsd));
        return this;
    }

    public EventsBuilder error(String code, String message) {
        events.add(new RunEvent.Error(runId, ++seq, code, message));
        return this;
    }

    public EventsBuilder cancelled(MessageId partialMessage) {
        events.add(new RunEvent.Cancelled(runId, ++seq, partialMessage));
        return this;
    }

    /** The seq of the last event added (or given to {@link #after}). */
    public long lastSeq() {
        return seq;
    }

    public List<RunEvent> build() {
        return List.copyOf(events);
    }
}
