package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.Tool;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * A run's model turns and tool rounds: each turn's answer either asks for tools (stored with its
 * text, the tools run, the loop goes on) or completes the run; every step is stored as it goes.
 */
final class TurnLoop {
    private final Engine engine;
    private final Agent agent;
    private final ModelSettings settings;
    private final RunState state;
    private final Cancellation cancellation;
    private final ModelCall modelCall;
    private final ToolInvoker tools;
    private final RunEnder ender;
    private final ApprovalGate approvals;

    TurnLoop(Engine engine, Agent agent, ModelSettings settings, RunState state, Cancellation cancellation, ModelCall modelCall, ToolInvoker tools,
             RunEnder ender) {
        this.approvals = new ApprovalGate(engine, agent, state);
        this.engine = engine;
        this.agent = agent;
        this.settings = settings;
        this.state = state;
        this.cancellation = cancellation;
        this.modelCall = modelCall;
        this.tools = tools;
        this.ender = ender;
    }

    /**
     * Runs the loop to the run's completion; any other end leaves it as an exception, a pause for
     * approval as {@link ApprovalGate.Paused}. A {@code resumed} run (its last pending call was
     * decided) first finishes the decided calls of the turn it paused in, then goes on. On the thread
     * of a caller that waits for the run ({@code onCallersThread}), the loop stops at the first turn
     * that asks for tools, once that turn is stored, with {@link HandOff}: the tools and the turns
     * after them go on on a run thread. Off a caller's thread, the run waits for an asynchronous model
     * ({@link ModelCall#asynchronous()}) without a thread, leaving with {@link Suspend}.
     */
    void run(Run current, Message knownUserMessage, boolean resumed, boolean onCallersThread) throws InterruptedException {
        cancellation.throwIfCancelled();
        Message userMessage = knownUserMessage != null ? knownUserMessage
                : engine.store().messages().find(current.userMessageId()).orElseThrow(
                        () -> new IllegalStateException("user message " + current.userMessageId() + " is missing"));
        List<Message> runMessages = new ArrayList<>();
        int toolRounds = 0;
        if (resumed) {
            ApprovalGate.Resumed before = approvals.resume(current, userMessage);
            runMessages.addAll(before.runMessages());
            toolRounds = before.toolRounds();
            for (Step decided : before.decided()) {
                if (decided.status() == StepStatus.DENIED) {
                    runMessages.add(answerDenied(current, decided));
                } else {
                    Step running = decided.runningFrom(engine.now());
                    state.guarded(() -> state.openStep = running);
                    runMessages.add(finishTool(current, running.toolCall(), running));
                }
            }
        } else {
            state.emit(s -> new RunEvent.RunStarted(current.id(), s, current.threadId(), userMessage.id(), current.agentId()));
        }
        List<Message> window = HistoryWindow.load(engine.store().messages(), current, userMessage, agent.limits(), engine.ids());
        List<ToolSpec> toolSpecs = agent.tools().stream().map(Tool::spec).toList();
        loop(new Loop(current, userMessage, window, toolSpecs, runMessages, toolRounds), null, onCallersThread);
    }

    /** What the loop carries from turn to turn (its thread changes at most once, at a {@link HandOff}). */
    private static final class Loop {
        final Run current;
        final Message userMessage;
        final List<Message> window;
        final List<ToolSpec> toolSpecs;
        final List<Message> runMessages;
        int toolRounds;

        Loop(Run current, Message userMessage, List<Message> window, List<ToolSpec> toolSpecs, List<Message> runMessages,
             int toolRounds) {
            this.current = current;
            this.userMessage = userMessage;
            this.window = window;
            this.toolSpecs = toolSpecs;
            this.runMessages = runMessages;
            this.toolRounds = toolRounds;
        }
    }

    /**
     * The run's work left when it leaves the thread of the caller that waited for it: run on a run
     * thread, it goes on as {@link #run} would have.
     */
    interface Rest {
        void run() throws InterruptedException;
    }

    /** The run leaves the caller's thread here; {@link #rest} goes on elsewhere. */
    static final class HandOff extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient Rest rest;

        HandOff(Rest rest) {
            super(null, null, false, false);
            this.rest = rest;
        }
    }

    /**
     * The run waits for an asynchronous model call ({@link ModelCall#start}) without a thread: {@link #rest}
     * goes on on a run thread once {@link #until} completed.
     */
    static final class Suspend extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient CompletableFuture<?> until;
        final transient Rest rest;

        Suspend(CompletableFuture<?> until, Rest rest) {
            super(null, null, false, false);
            this.until = until;
            this.rest = rest;
        }
    }

    /** Model turns until one completes the run; {@code asking}, when not null, is a stored turn whose tools run first. */
    private void loop(Loop l, ModelResponse asking, boolean onCallersThread) throws InterruptedException {
        Run current = l.current;
        ModelResponse toolsToRun = asking;
        while (true) {
            if (toolsToRun != null) {
                runTools(l, toolsToRun);
                toolsToRun = null;
            }
            cancellation.throwIfCancelled();
            List<Message> conversation = new ArrayList<>();
            if (!agent.systemPrompt().isBlank()) {
                conversation.add(RunMessages.system(engine, current, agent.systemPrompt(), l.userMessage.createdAt()));
            }
            conversation.addAll(l.window);
            conversation.addAll(l.runMessages);
            ModelRequest request = new ModelRequest(current.model(), conversation, l.toolSpecs, settings);

            long promptTokens = TokenEstimate.ofPrompt(conversation);
            Step turn = state.guarded(() -> {
                Step step = state.storedFirstStep;
                if (step != null) {
                    state.storedFirstStep = null;
                } else {
                    step = Step.messageCreation(StepId.next(engine.ids()), current.id(), ++state.stepPosition, engine.now());
                    engine.store().runs().insertStep(step);
                }
                state.openTurn(step, promptTokens);
                return step;
            });
            Function<ModelResponse, Usage> estimate = r -> Usage.estimated(promptTokens, TokenEstimate.ofOutput(r.text(), r.toolCalls()));
            ModelResponse response;
            if (!onCallersThread && modelCall.asynchronous()) {
                CompletableFuture<ModelResponse> answer = modelCall.start(request, estimate);
                if (!answer.isDone()) {
                    // no thread waits for the model: the loop goes on on a run thread once it answered
                    throw new Suspend(answer, () -> {
                        ModelResponse reply = modelCall.answerOf(answer);
                        if (answered(l, turn, reply, estimate, false)) {
                            loop(l, reply, false);
                        }
                    });
                }
                response = modelCall.answerOf(answer);
            } else {
                response = modelCall.complete(request, estimate);
            }
            if (!answered(l, turn, response, estimate, onCallersThread)) {
                return;
            }
            toolsToRun = response;
        }
    }

    /**
     * A model turn's answer: the run completes (false), or the turn that asks for tools is stored (true: the
     * loop goes on with its tools). On the thread of a caller that waits for the run, a turn that asks for
     * tools leaves that thread with {@link HandOff}.
     */
    private boolean answered(Loop l, Step turn, ModelResponse response, Function<ModelResponse, Usage> estimate,
                             boolean onCallersThread) {
        Usage turnUsage = response.usage() != null ? response.usage() : estimate.apply(response);
        state.guarded(() -> state.openTurnUsage = turnUsage);
        cancellation.throwIfCancelled();

        if (!response.hasToolCalls()) {
            ender.finish(new Ending.Completed(turn, response, turnUsage));
            return false;
        }
        if (l.toolRounds >= agent.limits().maxToolRounds()) {
            state.guarded(() -> {
                state.reconcile(response);
                return null;
            });
            throw new RunFailure("tool_rounds_exceeded",
                    "The agent asked for tools more than " + agent.limits().maxToolRounds() + " times");
        }
        l.toolRounds++;
        l.runMessages.add(storeAsking(l.current, turn, response, turnUsage));
        if (onCallersThread) {
            // tools and further turns may take long: the caller's thread is given back, the run goes on elsewhere
            throw new HandOff(() -> loop(l, response, false));
        }
        return true;
    }

    /** The tool calls of a stored turn: each runs, or waits for approval (the run pauses once all others ran). */
    private void runTools(Loop l, ModelResponse response) throws InterruptedException {
        List<ToolCall> toApprove = new ArrayList<>();
        for (ToolCall call : response.toolCalls()) {
            if (approvals.needsApproval(call)) {
                toApprove.add(call);
            } else {
                l.runMessages.add(runTool(l.current, call));
            }
        }
        if (!toApprove.isEmpty()) {
            approvals.pause(l.current, toApprove);
        }
    }

    /** Stores a turn that asks for tools: its text with the calls, and the turn's end. */
    private Message storeAsking(Run current, Step turn, ModelResponse response, Usage turnUsage) {
        return state.guarded(() -> {
            state.reconcile(response);
            Instant now = engine.now();
            Step turnEnd = turn.completed(now, null, turnUsage);
            Message m = engine.store().inTransaction(() -> {
                Message stored = engine.store().messages().append(RunMessages.assistant(engine, current, state.turnText.toString(),
                        response.toolCalls(), MessageStatus.COMPLETED, now).withThinking(state.turnThinking.toString())
                        .withUsage(turnUsage));
                engine.store().runs().updateStep(turnEnd);
                return stored;
            });
            state.storedSteps.put(turnEnd.id(), turnEnd);
            state.usage = state.usage.plus(turnUsage);
            state.openStep = null;
            state.turnText.setLength(0);
            state.turnThinking.setLength(0);
            state.pendingCalls.addAll(response.toolCalls());
            return m;
        });
    }

    /** One tool call as a step of its own, its result stored as a tool message. */
    private Message runTool(Run current, ToolCall call) throws InterruptedException {
        Step step = state.guarded(() -> {
            Step s = Step.toolCall(StepId.next(engine.ids()), current.id(), ++state.stepPosition, call, engine.now());
            engine.store().runs().insertStep(s);
            state.storedSteps.put(s.id(), s);
            state.openStep = s;
            state.emitLocked(q -> new RunEvent.TraceStart(current.id(), q, s.id(), call));
            return s;
        });
        return finishTool(current, call, step);
    }

    /** A denied call: never run, the model is told so (with the reason) in its result. */
    private Message answerDenied(Run current, Step denied) {
        return state.guarded(() -> {
            Instant now = engine.now();
            Message toolMessage = engine.store().messages().append(RunMessages.toolResult(engine, current, denied.toolCall().id(),
                    ApprovalGate.denialText(denied.error()), now));
            state.pendingCalls.remove(denied.toolCall());
            state.emitLocked(q -> new RunEvent.TraceEnd(current.id(), q, denied.id(), StepStatus.DENIED, null,
                    denied.error() == null ? "denied" : denied.error(), denied.latencyMs()));
            return toolMessage;
        });
    }

    /** Runs the call of {@code step} (stored, in progress, the open step), stores its end and result. */
    private Message finishTool(Run current, ToolCall call, Step step) throws InterruptedException {
        ToolInvoker.ToolResult result = tools.invoke(current, call, step);
        return state.guarded(() -> {
            Instant now = engine.now();
            Step ended = result.error() == null ? step.completed(now, result.output(), Usage.ZERO)
                    : step.failed(now, result.error(), Usage.ZERO);
            String text = result.error() == null ? result.output() : "error: " + result.error();
            Message toolMessage = engine.store().inTransaction(() -> {
                engine.store().runs().updateStep(ended);
                return engine.store().messages().append(RunMessages.toolResult(engine, current, call.id(), text, now));
            });
            state.storedSteps.put(ended.id(), ended);
            state.openStep = null;
            state.pendingCalls.remove(call);
            state.emitLocked(q -> new RunEvent.TraceEnd(current.id(), q, step.id(), ended.status(), ended.output(), ended.error(),
                    ended.latencyMs()));
            return toolMessage;
        });
    }
}
