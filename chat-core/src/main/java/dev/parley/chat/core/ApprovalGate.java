package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Tool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a run executing here stops for a person's approval of tool calls, and where it picks up
 * again on whichever server took the last decision.
 *
 * <p>A pause hands the run's event log to the store ({@link dev.parley.chat.port.out.RunEventBus#handOff}),
 * then stores in one transaction the steps awaiting approval, their {@code trace_start} and
 * {@code approval_required} events and the run's {@code requires_action} status (a compare-and-set
 * that a cancel from elsewhere may win). After it the run is only rows: the execution ends here
 * without a terminal event, holding no thread, no model connection and no lease.
 */
final class ApprovalGate {
    /** The most messages of its own a resumed run reads back (the turns and tool results before its pause). */
    static final int RUN_MESSAGES_READ = 2_000;

    private final Engine engine;
    private final Agent agent;
    private final RunState state;

    ApprovalGate(Engine engine, Agent agent, RunState state) {
        this.engine = engine;
        this.agent = agent;
        this.state = state;
    }

    /** Whether a person must decide the call before it runs. */
    boolean needsApproval(ToolCall call) {
        return agent.tool(call.name()).map(Tool::requiresApproval).orElse(false);
    }

    /**
     * Pauses the run for {@code calls} (its turn's calls that need approval, stored with the turn and
     * pending): throws {@link Paused} once the pause is stored, or a RunCancelledException when the
     * run was cancelled elsewhere first (its compare-and-set lost).
     */
    void pause(Run current, List<ToolCall> calls) {
        try {
            store(current, calls);
        } catch (LostPause e) {
            throw new RunCancelledException();
        }
        throw new Paused();
    }

    private void store(Run current, List<ToolCall> calls) {
        state.guarded(() -> {
            Instant now = engine.now();
            List<Step> steps = new ArrayList<>();
            List<RunEvent> events = new ArrayList<>();
            long seq = state.seq;
            for (ToolCall call : calls) {
                Step step = Step.awaitingApproval(StepId.next(engine.ids()), current.id(), ++state.stepPosition, call, now);
                steps.add(step);
                events.add(new RunEvent.TraceStart(current.id(), ++seq, step.id(), call));
                events.add(new RunEvent.ApprovalRequired(current.id(), ++seq, step.id(), call));
            }
            Run waiting = current.requiringAction();
            Instant decideBy = now.plus(agent.limits().approvalTimeout());
            engine.bus().handOff(current.id());
            long last = seq;
            engine.store().inTransaction(() -> {
                for (Step step : steps) {
                    engine.store().runs().insertStep(step);
                }
                if (!engine.store().runs().pause(waiting, decideBy)) {
                    throw new LostPause();
                }
                engine.store().events().append(events);
            });
            steps.forEach(s -> state.storedSteps.put(s.id(), s));
            state.run = waiting;
            state.seq = last;
            state.pendingCalls.clear();
            state.openStep = null;
            // nothing more is published here: the log is the store's until the run resumes
            state.terminated = true;
            return null;
        });
    }

    /** What a resumed run picks up: its own messages so far, its tool rounds, and the decided calls to finish. */
    record Resumed(List<Message> runMessages, int toolRounds, List<Step> decided) {
    }

    /**
     * Loads what the run did before its pause into its state (steps, usage, positions) and returns its
     * messages after its user message, its tool rounds so far, and the decided steps of its last turn
     * (approved ones {@code in_progress}, denied ones {@code denied}) whose calls have no result yet.
     */
    Resumed resume(Run current, Message userMessage) {
        List<Message> runMessages = new ArrayList<>();
        for (Message m : engine.store().messages().latest(current.threadId(), RUN_MESSAGES_READ)) {
            if (current.id().equals(m.runId()) && m.position() > userMessage.position()) {
                runMessages.add(m);
            }
        }
        Set<String> answered = new HashSet<>();
        int toolRounds = 0;
        List<ToolCall> lastAsked = List.of();
        for (Message m : runMessages) {
            if (m.role() == Role.ASSISTANT && !m.toolCalls().isEmpty()) {
                toolRounds++;
                lastAsked = m.toolCalls();
            } else if (m.role() == Role.TOOL) {
                answered.add(m.toolCallId());
            }
        }
        Set<String> open = new HashSet<>();
        for (ToolCall call : lastAsked) {
            if (!answered.contains(call.id())) {
                open.add(call.id());
            }
        }
        List<Step> steps = engine.store().runs().steps(current.id());
        List<Step> decided = new ArrayList<>();
        state.guarded(() -> {
            Usage usage = Usage.ZERO;
            for (Step step : steps) {
                state.storedSteps.put(step.id(), step);
                state.stepPosition = Math.max(state.stepPosition, step.position());
                usage = usage.plus(step.usage());
                if (step.type() == StepType.TOOL_CALL && open.contains(step.toolCall().id())
                        && (step.status() == StepStatus.IN_PROGRESS || step.status() == StepStatus.DENIED)) {
                    decided.add(step);
                    state.pendingCalls.add(step.toolCall());
                }
            }
            state.usage = usage;
            return null;
        });
        return new Resumed(runMessages, toolRounds, decided);
    }

    /** What the model is told of a denied call. */
    static String denialText(String reason) {
        return reason == null || reason.isBlank() ? "error: the user denied this tool call"
                : "error: the user denied this tool call: " + reason;
    }

    /** The run is paused and stored as {@code requires_action}: its execution here ends without a terminal event. */
    static final class Paused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Paused() {
            super(null, null, false, false);
        }
    }

    /** Rolls back a pause whose compare-and-set lost (the run was cancelled elsewhere meanwhile). */
    static final class LostPause extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LostPause() {
            super(null, null, false, false);
        }
    }
}
