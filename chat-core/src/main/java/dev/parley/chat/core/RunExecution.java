package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One run executing on this server: the tool loop, its events and its end.
 *
 * <p>The run is the only writer of its events: every event gets its seq here, under
 * {@link #lock}, and nothing is published once a terminal event was. Every change that ends the run
 * (its last messages and its terminal status) is stored in one transaction whose compare-and-set
 * on the run's status decides races with cancellers on this or another server.
 *
 * <p>Tokens of a model turn belong to the assistant message stored for that turn: a turn that asks
 * for tools stores its text on the assistant message carrying the tool calls, the final turn on
 * the message named by {@code done}. So the concatenated {@code token} contents equal the texts of
 * the run's assistant messages in order (for the usual turn that asks for tools without text,
 * exactly the final message).
 */
final class RunExecution {
    private static final Logger log = LoggerFactory.getLogger(RunExecution.class);
    static final String TOOL_FAILED = "the tool failed";
    static final String MODEL_TIMEOUT = "model_timeout";
    static final int MAX_ERROR_MESSAGE_CODE_POINTS = 300;
    /** Backoff of the attempts to store a run's end while the store cannot be reached. */
    static final long STORE_END_RETRY_FIRST_MILLIS = 50;
    static final long STORE_END_RETRY_MAX_MILLIS = 2_000;
    /** How long the end waits for the run's buffered events to be stored once the store answers again. */
    static final Duration STORE_END_LOG_WAIT = Duration.ofSeconds(5);

    private final Engine engine;
    private final Agent agent;
    private final String userId;
    private final Consumer<RunExecution> onEnd;
    private final Cancellation cancellation = new Cancellation();
    private final CompletableFuture<Run> finished = new CompletableFuture<>();
    /** The run's user message when the caller had it at hand, else null (read from the store). */
    private final Message userMessage;
    private final AtomicBoolean ended = new AtomicBoolean();
    /** The run's end is published but not stored yet: {@link #end} waits for it. */
    private volatile boolean endToStore;
    /** The run as the store held it, ended by another party: stop without trying to end it here. */
    private volatile Run endedInStore;

    /** Guards everything below, and every publish of this run's events. */
    private final Object lock = new Object();
    private Run run;
    private long seq;
    private boolean terminated;
    private final StringBuilder turnText = new StringBuilder();
    private Step openStep;
    /** The first model turn's step, stored with the run by its send and not yet begun; else null. */
    private Step storedFirstStep;
    /** The run's steps as stored, in position order: known here while every write of them committed. Guarded by lock. */
    private final Map<StepId, Step> storedSteps = new LinkedHashMap<>();
    /** What the run completed with, as stored; null until it completed here. */
    private volatile RunOutcome completedOutcome;
    private long openTurnPromptTokens;
    /** The open turn's usage once the model has answered; until then it is estimated from the streamed text. */
    private Usage openTurnUsage;
    private int stepPosition;
    private Usage usage = Usage.ZERO;
    private final List<ToolCall> pendingCalls = new ArrayList<>();

    /** The model call may be interrupted only inside this window. */
    private final Object interruptLock = new Object();
    private Thread runner;
    private boolean modelCallInterruptible;

    RunExecution(Engine engine, Run run, Agent agent, String userId, Consumer<RunExecution> onEnd) {
        this(engine, run, agent, userId, onEnd, null, null, engine.bus().lastSeq(run.id()));
    }

    /**
     * A run started by the send that stored {@code userMessage} and the run's first step (its first
     * model turn, in progress): it has published nothing yet.
     */
    RunExecution(Engine engine, Run run, Agent agent, String userId, Consumer<RunExecution> onEnd, Message userMessage,
                 Step firstStep) {
        this(engine, run, agent, userId, onEnd, Require.notNull(userMessage, "userMessage"),
                Require.notNull(firstStep, "firstStep"), 0);
    }

    private RunExecution(Engine engine, Run run, Agent agent, String userId, Consumer<RunExecution> onEnd, Message userMessage,
                         Step firstStep, long lastSeq) {
        this.engine = engine;
        this.run = run;
        this.agent = agent;
        this.userId = userId;
        this.onEnd = onEnd;
        this.userMessage = userMessage;
        this.seq = lastSeq;
        // a run that ends before its first turn begins ends this step with it
        this.storedFirstStep = firstStep;
        this.openStep = firstStep;
        this.stepPosition = firstStep == null ? 0 : firstStep.position();
    }

    Run run() {
        synchronized (lock) {
            return run;
        }
    }

    /** The user the run executes for (its thread's owner). */
    String userId() {
        return userId;
    }

    /** Completes with the run as it ended (terminal, or as last stored when another party ended it). */
    CompletableFuture<Run> finished() {
        return finished;
    }

    /**
     * The run, its answer and its steps as stored, once it completed here (the same as reading them
     * back); empty while it runs and for a run that ended otherwise, which is read from the store.
     */
    Optional<RunOutcome> completedOutcome() {
        return Optional.ofNullable(completedOutcome);
    }

    boolean isTerminated() {
        synchronized (lock) {
            return terminated;
        }
    }

    /** Asks the run to stop: the model call is interrupted, a running tool is cancelled. */
    void cancel() {
        cancellation.cancel();
    }

    /**
     * Stops a run that the store already holds as ended (another server cancelled it, or ended it after
     * its lease expired): it keeps its partial text and publishes the end of its stream, without first
     * trying to end the run itself.
     */
    void stopEndedInStore(Run stored) {
        Require.that(stored.isTerminal(), "the stored run has ended");
        endedInStore = stored;
        cancellation.cancel();
    }

    /**
     * Ends the run as cancelled from another thread, whatever the executing thread is doing; used
     * when the run did not stop in time. The executing thread's later events are dropped.
     */
    void forceCancel() {
        cancellation.cancel();
        finishCancelled();
        end();
    }

    /**
     * Ends the run as failed from another thread, whatever the executing thread is doing; used when
     * the model ignores its timeout. The executing thread's later events are dropped.
     */
    void forceFail(String code, String message) {
        cancellation.cancel();
        finishFailed(code, message);
        end();
    }

    /** Executes the run on the calling thread; returns when the run has ended. */
    void execute() {
        synchronized (interruptLock) {
            runner = Thread.currentThread();
        }
        Run current = run();
        MDC.put("run_id", current.id().value());
        MDC.put("thread_id", current.threadId().value());
        Cancellation.Registration interrupting = cancellation.onCancel(this::interruptModelCall);
        try {
            if (agent == null) {
                finishFailed("agent_not_found", "The agent of this run is no longer configured");
            } else {
                toolLoop(current);
            }
        } catch (Stopped stopped) {
            log.debug("run {} was ended by another party", current.id());
        } catch (RunCancelledException e) {
            finishCancelled();
        } catch (InterruptedException e) {
            if (cancellation.isCancelled()) {
                finishCancelled();
            } else {
                log.error("run {} was interrupted", current.id());
                finishFailed("internal_error", "internal error");
            }
        } catch (ModelException e) {
            if (cancellation.isCancelled()) {
                finishCancelled();
            } else {
                log.warn("run {} failed: model error {}: {}", current.id(), e.code(), e.getMessage());
                finishFailed(e.code(), sanitize(e.getMessage(), "The model call failed"));
            }
        } catch (StorageUnavailableException e) {
            log.error("run {} failed: store unavailable", current.id(), e);
            finishFailed("unavailable", "The store is unavailable");
        } catch (RunFailure e) {
            log.info("run {} failed: {}", current.id(), e.getMessage());
            finishFailed(e.code, e.getMessage());
        } catch (RuntimeException | Error e) {
            if (cancellation.isCancelled()) {
                log.debug("run {} stopped by cancel with {}", current.id(), e.toString());
                finishCancelled();
            } else {
                log.error("run {} failed unexpectedly", current.id(), e);
                finishFailed("internal_error", "internal error");
            }
        } finally {
            interrupting.close();
            synchronized (interruptLock) {
                modelCallInterruptible = false;
                runner = null;
                Thread.interrupted();
            }
            end();
            MDC.remove("run_id");
            MDC.remove("thread_id");
        }
    }

    private void toolLoop(Run current) throws InterruptedException {
        cancellation.throwIfCancelled();
        Message userMessage = this.userMessage != null ? this.userMessage
                : engine.store().messages().find(current.userMessageId()).orElseThrow(
                        () -> new IllegalStateException("user message " + current.userMessageId() + " is missing"));
        emit(s -> new RunEvent.RunStarted(current.id(), s, current.threadId(), userMessage.id(), current.agentId()));
        List<Message> window = HistoryWindow.load(engine.store().messages(), current, userMessage, agent.limits(), engine.ids());
        List<ToolSpec> toolSpecs = agent.tools().stream().map(Tool::spec).toList();
        List<Message> runMessages = new ArrayList<>();
        int toolRounds = 0;
        while (true) {
            cancellation.throwIfCancelled();
            List<Message> conversation = new ArrayList<>();
            if (!agent.systemPrompt().isBlank()) {
                conversation.add(Message.system(MessageId.next(engine.ids()), current.threadId(), agent.systemPrompt(),
                        userMessage.createdAt()).inRun(current.id()));
            }
            conversation.addAll(window);
            conversation.addAll(runMessages);
            ModelRequest request = new ModelRequest(current.model(), conversation, toolSpecs);

            long promptTokens = TokenEstimate.ofPrompt(conversation);
            Step turn = guarded(() -> {
                Step step = storedFirstStep;
                if (step != null) {
                    storedFirstStep = null;
                } else {
                    step = Step.messageCreation(StepId.next(engine.ids()), current.id(), ++stepPosition, engine.now());
                    engine.store().runs().insertStep(step);
                }
                storedSteps.put(step.id(), step);
                openStep = step;
                openTurnPromptTokens = promptTokens;
                openTurnUsage = null;
                turnText.setLength(0);
                return step;
            });
            ModelResponse response = callModel(request);
            Usage turnUsage = response.usage() != null ? response.usage()
                    : Usage.estimated(promptTokens, TokenEstimate.ofOutput(response.text(), response.toolCalls()));
            guarded(() -> openTurnUsage = turnUsage);
            cancellation.throwIfCancelled();

            if (!response.hasToolCalls()) {
                finishCompleted(turn, response, turnUsage);
                return;
            }
            if (toolRounds >= agent.limits().maxToolRounds()) {
                guarded(() -> {
                    reconcile(response);
                    return null;
                });
                throw new RunFailure("tool_rounds_exceeded",
                        "The agent asked for tools more than " + agent.limits().maxToolRounds() + " times");
            }
            toolRounds++;
            Message asking = guarded(() -> {
                reconcile(response);
                Instant now = engine.now();
                Step turnEnd = turn.completed(now, null, turnUsage);
                Message m = engine.store().inTransaction(() -> {
                    Message stored = engine.store().messages().append(assistantMessage(current, turnText.toString(),
                            response.toolCalls(), MessageStatus.COMPLETED, now));
                    engine.store().runs().updateStep(turnEnd);
                    return stored;
                });
                storedSteps.put(turnEnd.id(), turnEnd);
                usage = usage.plus(turnUsage);
                openStep = null;
                turnText.setLength(0);
                pendingCalls.addAll(response.toolCalls());
                return m;
            });
            runMessages.add(asking);
            for (ToolCall call : response.toolCalls()) {
                runMessages.add(runTool(current, call));
            }
        }
    }

    private ModelResponse callModel(ModelRequest request) {
        ModelStreamListener listener = new ModelStreamListener() {
            @Override
            public void onToken(String delta) {
                if (delta == null || delta.isEmpty()) {
                    return;
                }
                synchronized (lock) {
                    if (terminated) {
                        return;
                    }
                    turnText.append(delta);
                    emitLocked(s -> new RunEvent.Token(run.id(), s, delta));
                }
            }

            @Override
            public void onThinking(String delta) {
                if (delta == null || delta.isEmpty()) {
                    return;
                }
                synchronized (lock) {
                    emitLocked(s -> new RunEvent.Thinking(run.id(), s, delta));
                }
            }
        };
        synchronized (interruptLock) {
            cancellation.throwIfCancelled();
            modelCallInterruptible = true;
        }
        Duration timeout = engine.modelTimeout();
        if (timeout.isZero()) {
            try {
                return engine.model().complete(request, listener, cancellation);
            } finally {
                synchronized (interruptLock) {
                    modelCallInterruptible = false;
                    Thread.interrupted();
                }
            }
        }
        // the call gets a cancel signal of its own: the run's cancel, or the call's timeout
        Cancellation call = new Cancellation();
        Cancellation.Registration linked = cancellation.onCancel(call::cancel);
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> timer = engine.timers().schedule(() -> {
            timedOut.set(true);
            log.warn("run {}: the model did not answer within {} ms; cancelling the call", run().id(), timeout.toMillis());
            call.cancel();
            interruptModelCall();
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        // a model that ignores its cancel: the run is ended regardless, its thread left to the model
        ScheduledFuture<?> stopper = engine.timers().schedule(() -> {
            if (timedOut.get() && !isTerminated()) {
                log.error("run {}: the model ignored its timeout for {} ms; ending the run without it", run().id(),
                        engine.cancelTimeout().toMillis());
                forceFail(MODEL_TIMEOUT, modelTimeoutMessage(timeout));
            }
        }, timeout.plus(engine.cancelTimeout()).toMillis(), TimeUnit.MILLISECONDS);
        try {
            return engine.model().complete(request, listener, call);
        } catch (RuntimeException e) {
            if (timedOut.get() && !cancellation.isCancelled()) {
                throw new RunFailure(MODEL_TIMEOUT, modelTimeoutMessage(timeout));
            }
            throw e;
        } finally {
            timer.cancel(false);
            stopper.cancel(false);
            linked.close();
            synchronized (interruptLock) {
                modelCallInterruptible = false;
                Thread.interrupted();
            }
        }
    }

    private static String modelTimeoutMessage(Duration timeout) {
        return "The model did not answer within " + timeout.toSeconds() + " s";
    }

    private void interruptModelCall() {
        synchronized (interruptLock) {
            if (modelCallInterruptible && runner != null) {
                runner.interrupt();
            }
        }
    }

    /**
     * Makes the turn's streamed text agree with the model's final text: a model that streamed less
     * than it answered (or nothing) gets the rest sent as one more token. Called under the lock.
     */
    private void reconcile(ModelResponse response) {
        String streamed = turnText.toString();
        String full = response.text();
        if (full.equals(streamed)) {
            return;
        }
        if (full.startsWith(streamed)) {
            String rest = full.substring(streamed.length());
            turnText.append(rest);
            emitLocked(s -> new RunEvent.Token(run.id(), s, rest));
        } else {
            log.warn("run {}: the model's final text differs from what it streamed; keeping the streamed text", run.id());
        }
    }

    private Message runTool(Run current, ToolCall call) throws InterruptedException {
        Step step = guarded(() -> {
            Step s = Step.toolCall(StepId.next(engine.ids()), current.id(), ++stepPosition, call, engine.now());
            engine.store().runs().insertStep(s);
            storedSteps.put(s.id(), s);
            openStep = s;
            emitLocked(q -> new RunEvent.TraceStart(current.id(), q, s.id(), call));
            return s;
        });
        ToolResult result = invoke(current, call, step);
        return guarded(() -> {
            Instant now = engine.now();
            Step ended = result.error == null ? step.completed(now, result.output, Usage.ZERO) : step.failed(now, result.error, Usage.ZERO);
            String text = result.error == null ? result.output : "error: " + result.error;
            Message toolMessage = engine.store().inTransaction(() -> {
                engine.store().runs().updateStep(ended);
                return engine.store().messages().append(toolMessage(current, call.id(), text, now));
            });
            storedSteps.put(ended.id(), ended);
            openStep = null;
            pendingCalls.remove(call);
            emitLocked(q -> new RunEvent.TraceEnd(current.id(), q, step.id(), ended.status(), ended.output(), ended.error(),
                    ended.latencyMs()));
            return toolMessage;
        });
    }

    private record ToolResult(String output, String error) {
    }

    /** Runs the tool off this thread, bounded by its timeout; cancelling the run cancels the tool. */
    private ToolResult invoke(Run current, ToolCall call, Step step) throws InterruptedException {
        Optional<Tool> found = agent.tool(call.name());
        if (found.isEmpty()) {
            return new ToolResult(null, "tool_not_found: there is no tool named " + call.name());
        }
        Tool tool = found.get();
        Cancellation toolCancellation = new Cancellation();
        AtomicBoolean open = new AtomicBoolean(true);
        Consumer<String> progress = content -> {
            if (content == null || !open.get()) {
                return;
            }
            synchronized (lock) {
                if (open.get()) {
                    emitLocked(q -> new RunEvent.TraceUpdate(current.id(), q, step.id(), content));
                }
            }
        };
        ToolContext context = new ToolContext(call.arguments(), call.id(), current.id(), current.threadId(), userId,
                toolCancellation, progress);
        CompletableFuture<String> outcome = new CompletableFuture<>();
        Cancellation.Registration forward = cancellation.onCancel(() -> {
            outcome.completeExceptionally(new RunCancelledException());
            toolCancellation.cancel();
        });
        Future<?> task = null;
        try {
            String runId = current.id().value();
            String threadId = current.threadId().value();
            task = engine.toolExecutor().submit(() -> {
                MDC.put("run_id", runId);
                MDC.put("thread_id", threadId);
                try {
                    outcome.complete(tool.execute(context));
                } catch (Throwable t) {
                    outcome.completeExceptionally(t);
                } finally {
                    MDC.remove("run_id");
                    MDC.remove("thread_id");
                }
            });
            Duration timeout = tool.timeout();
            String output = outcome.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return new ToolResult(output == null ? "" : output, null);
        } catch (TimeoutException e) {
            toolCancellation.cancel();
            log.info("run {}: tool {} timed out after {} ms", current.id(), call.name(), tool.timeout().toMillis());
            return new ToolResult(null, "tool_timeout: the tool did not finish within " + tool.timeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cancellation.isCancelled()) {
                throw new RunCancelledException();
            }
            if (cause instanceof ToolException te) {
                return new ToolResult(null, te.getMessage() == null ? TOOL_FAILED : te.getMessage());
            }
            log.warn("run {}: tool {} failed", current.id(), call.name(), cause);
            return new ToolResult(null, TOOL_FAILED);
        } finally {
            open.set(false);
            forward.close();
            if (task != null && !task.isDone()) {
                toolCancellation.cancel();
                task.cancel(true);
            }
        }
    }

    // ---- the end of a run --------------------------------------------------------------------

    private void finishCompleted(Step turn, ModelResponse response, Usage turnUsage) {
        synchronized (lock) {
            if (terminated) {
                return;
            }
            reconcile(response);
            usage = usage.plus(turnUsage);
            Instant now = engine.now();
            Usage total = usage;
            BigDecimal cost = engine.cost(run.model(), total);
            Message message = assistantMessage(run, turnText.toString(), List.of(), MessageStatus.COMPLETED, now);
            Run completed = run.completed(now, message.id(), total, cost);
            // done commits with the answer and the completed run: it is never published before they are stored
            RunEvent done = new RunEvent.Done(completed.id(), seq + 1, completed.threadId(), message.id(), total, cost);
            Step turnEnd = turn.completed(now, null, turnUsage);
            Message stored;
            try {
                stored = engine.bus().publishWith(done, engine.store(), () -> {
                    Message answer = engine.store().messages().append(message);
                    engine.store().runs().updateStep(turnEnd);
                    if (!engine.store().runs().update(completed, RunStatus.IN_PROGRESS)) {
                        throw new LostRace();
                    }
                    // appending the answer moved the thread's updated_at
                    return answer;
                });
            } catch (LostRace e) {
                stored = null;
            }
            if (stored == null) {
                endedElsewhere();
                return;
            }
            storedSteps.put(turnEnd.id(), turnEnd);
            completedOutcome = new RunOutcome(completed, stored, List.copyOf(storedSteps.values()));
            run = completed;
            openStep = null;
            turnText.setLength(0);
            seq = done.seq();
            terminated = true;
        }
    }

    /** Ends the run as cancelled, keeping the partial text; safe to call from any thread, more than once. */
    void finishCancelled() {
        synchronized (lock) {
            if (terminated) {
                return;
            }
            if (endedInStore != null) {
                endedElsewhere(Optional.of(endedInStore));
                return;
            }
            Instant now = engine.now();
            Usage total = usage.plus(partialTurnUsage());
            BigDecimal cost = engine.cost(run.model(), total);
            Step step = openStep;
            Step stepEnd = step == null ? null : step.cancelled(now, step.type() == StepType.MESSAGE_CREATION ? partialTurnUsage() : Usage.ZERO);
            Optional<MessageId> partial;
            Run cancelled;
            Holder<Run> ended = new Holder<>();
            Supplier<Optional<MessageId>> write = () -> {
                Optional<MessageId> kept = storeLeftovers(now, "cancelled", stepEnd);
                Run c = run.cancelled(now, kept.orElse(null), total, cost);
                if (!engine.store().runs().update(c, run.status())) {
                    throw new LostRace();
                }
                engine.touchThread(run.threadId(), now);
                ended.value = c;
                return kept;
            };
            try {
                partial = transaction(write, null);
                cancelled = ended.value;
            } catch (RuntimeException e) {
                // not decided by a ping: a store that came back meanwhile would answer it, and the partial text be lost
                if (e instanceof StorageUnavailableException) {
                    log.warn("run {}: the store is unavailable; its cancellation is stored once it answers again", run.id());
                    emitTerminal(s -> new RunEvent.Cancelled(run.id(), s, null));
                    storeEndLater(storedBy(write, ended), () -> {
                        Run c = run.cancelled(now, null, total, cost);
                        return engine.store().runs().update(c, run.status()) ? c : null;
                    });
                    return;
                }
                log.error("run {}: could not store its cancellation with its partial answer", run.id(), e);
                try {
                    Run c = run.cancelled(now, null, total, cost);
                    if (engine.store().runs().update(c, run.status())) {
                        run = c;
                    }
                } catch (RuntimeException again) {
                    log.error("run {}: could not store its cancellation", run.id(), again);
                }
                emitTerminal(s -> new RunEvent.Cancelled(run.id(), s, null));
                return;
            }
            if (partial == null) {
                endedElsewhere();
                return;
            }
            run = cancelled;
            leftoversStored();
            MessageId kept = partial.orElse(null);
            if (stepEnd != null && stepEnd.type() == StepType.TOOL_CALL) {
                emitLocked(s -> new RunEvent.TraceEnd(cancelled.id(), s, stepEnd.id(), StepStatus.CANCELLED, null, "cancelled",
                        stepEnd.latencyMs()));
            }
            emitTerminal(s -> new RunEvent.Cancelled(cancelled.id(), s, kept));
        }
    }

    private void finishFailed(String code, String message) {
        synchronized (lock) {
            if (terminated) {
                return;
            }
            Instant now = engine.now();
            RunError error = new RunError(code, message);
            Usage total = usage.plus(partialTurnUsage());
            BigDecimal cost = engine.cost(run.model(), total);
            Step step = openStep;
            Step stepEnd = step == null ? null
                    : step.failed(now, code, step.type() == StepType.MESSAGE_CREATION ? partialTurnUsage() : Usage.ZERO);
            Optional<MessageId> partial = null;
            Holder<Run> ended = new Holder<>();
            Supplier<Optional<MessageId>> write = () -> {
                Optional<MessageId> kept = storeLeftovers(now, code, stepEnd);
                Run f = run.failed(now, error, kept.orElse(null), total, cost);
                if (!engine.store().runs().update(f, run.status())) {
                    throw new LostRace();
                }
                engine.touchThread(run.threadId(), now);
                ended.value = f;
                return kept;
            };
            boolean storeLater = false;
            try {
                partial = transaction(write, null);
            } catch (RuntimeException e) {
                // not decided by a ping: a store that came back meanwhile would answer it, and the partial text be lost
                if (e instanceof StorageUnavailableException) {
                    log.warn("run {}: the store is unavailable; its failure ({}) is stored once it answers again", run.id(), code);
                    storeLater = true;
                    ended.value = null;
                    partial = Optional.empty();
                } else {
                    log.error("run {}: could not store its failure ({}) with its partial answer", run.id(), code, e);
                    partial = recordFailureOnly(now, error, total, cost, ended);
                }
            }
            if (partial == null) {
                endedElsewhere();
                return;
            }
            if (ended.value != null) {
                run = ended.value;
                leftoversStored();
            }
            openStep = null;
            if (stepEnd != null && stepEnd.type() == StepType.TOOL_CALL) {
                emitQuietly(s -> new RunEvent.TraceEnd(run.id(), s, stepEnd.id(), StepStatus.FAILED, null, code, stepEnd.latencyMs()));
            }
            emitTerminal(s -> new RunEvent.Error(run.id(), s, code, message));
            if (storeLater) {
                storeEndLater(storedBy(write, ended), () -> {
                    Holder<Run> failed = new Holder<>();
                    return recordFailureOnly(now, error, total, cost, failed) == null ? null : failed.value;
                });
            }
        }
    }

    /** Second attempt to end a failed run when storing its leftovers failed: the status alone. */
    private Optional<MessageId> recordFailureOnly(Instant now, RunError error, Usage total, BigDecimal cost,
                                                  Holder<Run> ended) {
        try {
            return transaction(() -> {
                Run f = run.failed(now, error, null, total, cost);
                if (!engine.store().runs().update(f, run.status())) {
                    throw new LostRace();
                }
                ended.value = f;
                return Optional.<MessageId>empty();
            }, null);
        } catch (RuntimeException e) {
            log.error("run {}: could not store its failure", run.id(), e);
            return Optional.empty();
        }
    }

    /**
     * Stores what a run that ends early leaves behind: the in-flight step's end, a result for every
     * tool call that got none (so the history stays well-formed), and the partial text of the
     * current turn as an incomplete assistant message. Called in a transaction, under the lock.
     */
    private Optional<MessageId> storeLeftovers(Instant now, String reason, Step stepEnd) {
        if (stepEnd != null) {
            engine.store().runs().updateStep(stepEnd);
        }
        for (ToolCall call : pendingCalls) {
            engine.store().messages().append(toolMessage(run, call.id(), "error: " + reason, now));
        }
        if (turnText.length() == 0) {
            return Optional.empty();
        }
        Message partial = engine.store().messages().append(
                assistantMessage(run, turnText.toString(), List.of(), MessageStatus.INCOMPLETE, now));
        return Optional.of(partial.id());
    }

    /** Forgets what {@link #storeLeftovers} stored, once its transaction committed. */
    private void leftoversStored() {
        pendingCalls.clear();
        turnText.setLength(0);
        openStep = null;
    }

    /**
     * The store says the run is no longer in progress although this server did not end it: another
     * server (or a forced cancel) did. When it was cancelled, this run still owns the event log, so
     * it keeps the partial text and publishes the {@code cancelled} event itself.
     */
    private void endedElsewhere() {
        Optional<Run> stored = Optional.empty();
        try {
            stored = engine.store().runs().find(run.id());
        } catch (RuntimeException e) {
            log.warn("run {}: could not read its status", run.id(), e);
        }
        endedElsewhere(stored);
    }

    /** See {@link #endedElsewhere()}, with the run as the store holds it. */
    private void endedElsewhere(Optional<Run> stored) {
        if (stored.isPresent() && stored.get().status() == RunStatus.CANCELLED) {
            Run cancelled = stored.get();
            Instant now = engine.now();
            Step stepEnd = openStep == null ? null : openStep.cancelled(now, Usage.ZERO);
            Optional<MessageId> kept = Optional.empty();
            try {
                kept = engine.store().inTransaction(() -> storeLeftovers(now, "cancelled", stepEnd));
                leftoversStored();
            } catch (RuntimeException e) {
                log.warn("run {}: could not keep its partial text", run.id(), e);
            }
            run = cancelled;
            openStep = null;
            MessageId keptId = kept.orElse(null);
            if (stepEnd != null && stepEnd.type() == StepType.TOOL_CALL) {
                emitQuietly(s -> new RunEvent.TraceEnd(cancelled.id(), s, stepEnd.id(), StepStatus.CANCELLED, null, "cancelled",
                        stepEnd.latencyMs()));
            }
            emitTerminal(s -> new RunEvent.Cancelled(cancelled.id(), s, keptId));
        } else if (stored.isPresent() && stored.get().status() == RunStatus.FAILED) {
            // another server ended it after its lease expired, and stored what it had; readers here
            // still need the end of the stream this server was publishing
            Run failed = stored.get();
            log.warn("run {} was ended elsewhere as failed ({})", failed.id(), failed.error().code());
            run = failed;
            openStep = null;
            emitTerminal(s -> new RunEvent.Error(failed.id(), s, failed.error().code(), failed.error().message()));
        } else {
            log.warn("run {} was ended elsewhere as {}", run.id(), stored.map(r -> r.status().wireName()).orElse("missing"));
            stored.ifPresent(r -> run = r);
            terminated = true;
        }
    }

    private Usage partialTurnUsage() {
        if (openStep == null || openStep.type() != StepType.MESSAGE_CREATION || storedFirstStep != null) {
            return Usage.ZERO;
        }
        if (openTurnUsage != null) {
            return openTurnUsage;
        }
        return Usage.estimated(openTurnPromptTokens, TokenEstimate.ofChars(turnText.length()));
    }

    /** For an execution that never ran (another party started or ended the run first): releases its waiters. */
    void abandon() {
        if (ended.compareAndSet(false, true)) {
            finished.complete(run());
        }
    }

    private void end() {
        if (endToStore) {
            return; // ended by storeEndLater, once the end is stored
        }
        if (ended.compareAndSet(false, true)) {
            finished.complete(run());
            onEnd.accept(this);
        }
    }

    /** True while the run's end, published already, waits for the store to answer again to be stored. */
    boolean isStoringEnd() {
        return endToStore;
    }

    /**
     * True when {@code failure} means the store cannot be reached (it does not answer a ping either),
     * as opposed to a store that answers but refuses this write.
     */
    private boolean storeUnreachable(RuntimeException failure) {
        if (!(failure instanceof StorageUnavailableException)) {
            return false;
        }
        try {
            engine.store().ping();
            return false;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** {@code write} in a transaction: the run as it stored it, or null when another party ended the run first. */
    private Supplier<Run> storedBy(Supplier<Optional<MessageId>> write, Holder<Run> ended) {
        return () -> {
            ended.value = null;
            Optional<MessageId> kept = transaction(write, null);
            return kept == null ? null : ended.value;
        };
    }

    /**
     * Stores the end of a run that ended while the store could not be reached: its terminal event is
     * published already (the event bus stores it once it can), and its status with its partial text
     * is stored once the store answers again, after the events before it, retried with backoff.
     * Until then the run stays this server's: its lease is renewed whenever the store answers and
     * the reaper here leaves it alone, so that it ends as its stream said instead of as interrupted,
     * and its waiters and the thread's next run wait for it. A store that answers but refuses
     * {@code write} gets {@code fallback} (the status alone). Both return the run as stored, or null
     * when another party ended it first. Called under the lock, once the run is terminated.
     */
    private void storeEndLater(Supplier<Run> write, Supplier<Run> fallback) {
        endToStore = true;
        long terminalSeq = engine.bus().lastSeq(run.id());
        new EndStorer(write, fallback, terminalSeq).schedule(STORE_END_RETRY_FIRST_MILLIS);
    }

    /** Retries storing a run's end; see {@link #storeEndLater}. */
    private final class EndStorer implements Runnable {
        private final Supplier<Run> write;
        private final Supplier<Run> fallback;
        private final long terminalSeq;
        private final RunId runId = run.id();
        private long delayMillis = STORE_END_RETRY_FIRST_MILLIS;
        private int attempts;
        /** Writes that failed in a row while the store answered pings. */
        private int refusals;
        /** When the store first answered again ({@link System#nanoTime()}), or 0. */
        private long answeredSince;

        EndStorer(Supplier<Run> write, Supplier<Run> fallback, long terminalSeq) {
            this.write = write;
            this.fallback = fallback;
            this.terminalSeq = terminalSeq;
        }

        /** Runs the next attempt after {@code millis}, off the timer's thread (an attempt may wait for the store). */
        void schedule(long millis) {
            try {
                engine.timers().schedule(() -> {
                    try {
                        engine.toolExecutor().execute(this);
                    } catch (RejectedExecutionException e) {
                        giveUp();
                    }
                }, millis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                giveUp();
            }
        }

        @Override
        public void run() {
            attempts++;
            Run stored;
            try {
                if (engine.store().events().lastSeq(runId) < terminalSeq) {
                    // the store answers: the run's buffered events go first, so that its log ends before its status
                    // does (the event bus writes them on its own within moments); a log that stays short is not
                    // waited for longer than STORE_END_LOG_WAIT
                    long now = System.nanoTime();
                    if (answeredSince == 0) {
                        answeredSince = now;
                    }
                    if (now - answeredSince < STORE_END_LOG_WAIT.toNanos()) {
                        schedule(STORE_END_RETRY_FIRST_MILLIS);
                        return;
                    }
                    log.warn("run {}: its events up to seq {} are not stored; storing its end anyway", runId, terminalSeq);
                }
                stored = write.get();
            } catch (RuntimeException e) {
                if (storeUnreachable(e)) {
                    answeredSince = 0;
                    refusals = 0;
                    long next = delayMillis;
                    delayMillis = Math.min(STORE_END_RETRY_MAX_MILLIS, delayMillis * 2);
                    schedule(next);
                    return;
                }
                if (e instanceof StorageUnavailableException && ++refusals < 2) {
                    // the store may have come back between the write and the ping: once more before giving up the partial text
                    schedule(STORE_END_RETRY_FIRST_MILLIS);
                    return;
                }
                log.error("run {}: could not store its end with its partial answer", runId, e);
                try {
                    stored = fallback.get();
                } catch (RuntimeException again) {
                    log.error("run {}: could not store its end", runId, again);
                    giveUp();
                    return;
                }
            }
            if (stored != null) {
                log.info("run {}: its end ({}) is stored, after {} attempts", runId, stored.status().wireName(), attempts);
            }
            done(stored);
        }

        /** The end cannot be stored (the service closed, or the store refuses it): the run is left to a reaper. */
        private void giveUp() {
            log.warn("run {}: its end was not stored; the reaper will end it once its lease expires", runId);
            done(null);
        }

        private void done(Run stored) {
            synchronized (lock) {
                if (stored != null) {
                    run = stored;
                    leftoversStored();
                } else {
                    try {
                        engine.store().runs().find(runId).filter(Run::isTerminal).ifPresent(r -> run = r);
                    } catch (RuntimeException e) {
                        log.debug("run {}: could not read its status", runId, e);
                    }
                }
            }
            endToStore = false;
            end();
        }
    }

    // ---- events ------------------------------------------------------------------------------

    private void emit(LongFunction<RunEvent> event) {
        synchronized (lock) {
            if (terminated) {
                throw new Stopped();
            }
            emitLocked(event);
        }
    }

    /** Publishes with the next seq; nothing once the run is terminated. Called under the lock. */
    private void emitLocked(LongFunction<RunEvent> event) {
        if (terminated) {
            return;
        }
        RunEvent e = event.apply(seq + 1);
        engine.bus().publish(e);
        seq = e.seq();
    }

    private void emitQuietly(LongFunction<RunEvent> event) {
        try {
            emitLocked(event);
        } catch (RuntimeException e) {
            log.warn("run {}: could not publish an event", run.id(), e);
        }
    }

    /** Publishes the terminal event; the run is terminated afterwards even when publishing failed. */
    private void emitTerminal(LongFunction<RunEvent> event) {
        try {
            emitLocked(event);
        } catch (RuntimeException e) {
            log.error("run {}: could not publish its terminal event", run.id(), e);
        } finally {
            terminated = true;
        }
    }

    /** Runs {@code work} in a transaction; {@code onLostRace} when its compare-and-set lost (and it rolled back). */
    private <T> T transaction(Supplier<T> work, T onLostRace) {
        try {
            return engine.store().inTransaction(work);
        } catch (LostRace e) {
            return onLostRace;
        }
    }

    /** Runs {@code work} under the lock unless the run was ended meanwhile. */
    private <T> T guarded(Supplier<T> work) {
        synchronized (lock) {
            if (terminated) {
                throw new Stopped();
            }
            return work.get();
        }
    }

    // ---- messages ----------------------------------------------------------------------------

    private Message assistantMessage(Run r, String text, List<ToolCall> calls, MessageStatus status, Instant now) {
        return Message.assistant(MessageId.next(engine.ids()), r.threadId(), text, now).inRun(r.id()).withToolCalls(calls)
                .withStatus(status);
    }

    private Message toolMessage(Run r, String toolCallId, String text, Instant now) {
        return Message.toolResult(MessageId.next(engine.ids()), r.threadId(), toolCallId, text, now).inRun(r.id());
    }

    /** An error message fit for a client: no control characters, at most 300 code points. */
    static String sanitize(String message, String fallback) {
        if (message == null || message.isBlank()) {
            return fallback;
        }
        StringBuilder sb = new StringBuilder();
        int count = 0;
        for (int i = 0; i < message.length() && count < MAX_ERROR_MESSAGE_CODE_POINTS; ) {
            int cp = message.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isISOControl(cp) || (Character.isSurrogate((char) cp) && cp <= 0xFFFF)) {
                sb.append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
            count++;
        }
        return sb.toString().strip();
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static final class Holder<T> {
        T value;
    }

    /** The run ends with a failure of this code; its message is safe to show. */
    static final class RunFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String code;

        RunFailure(String code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** Someone else ended the run; the executing thread stops without another event. */
    private static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super(null, null, false, false);
        }
    }

    /** Rolls back a terminal transaction whose compare-and-set lost. */
    private static final class LostRace extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LostRace() {
            super(null, null, false, false);
        }
    }
}
