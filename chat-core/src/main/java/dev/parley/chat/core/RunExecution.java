package dev.parley.chat.core;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.TraceSpan;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run executing on this server: its lifecycle (execute, cancel, stop because the store says it
 * ended, end by force) over the turn loop, the model call, tool calls and {@link RunEnder}.
 *
 * <p>The run is the only writer of its events: every event gets its seq under its state's lock,
 * and nothing is published once a terminal event was. Every change that ends the run (its last
 * messages and its terminal status) is stored in one transaction whose compare-and-set on the
 * run's status decides races with cancellers on this or another server.
 *
 * <p>Tokens of a model turn belong to the assistant message stored for that turn: a turn that asks
 * for tools stores its text on the assistant message carrying the tool calls, the final turn on
 * the message named by {@code done}. So the concatenated {@code token} contents equal the texts of
 * the run's assistant messages in order (for the usual turn that asks for tools without text,
 * exactly the final message).
 */
final class RunExecution {
    private static final Logger log = LoggerFactory.getLogger(RunExecution.class);

    private final Engine engine;
    private final Agent agent;
    private final String userId;
    private final Cancellation cancellation = new Cancellation();
    /** The run's user message when the caller had it at hand, else null (read from the store). */
    private final Message userMessage;
    private final RunState state;
    private final RunEnder ender;
    private final ModelCall modelCall;
    private final TurnLoop turns;
    /** The run went on after a pause for approval: it finishes its decided calls first, and has published before. */
    private final boolean resumed;
    /** The request and trace the run came from (for its log lines and spans). */
    private final RunOrigin origin;
    /** Handed to the run executor (its run is in progress in the store); see {@link #markSubmitted}. */
    private volatile boolean submitted;
    /** True while the run executes on the thread of a caller waiting for it. */
    private volatile boolean callersThread;
    /** The run was ended by its canceller, on the canceller's thread. */
    private volatile boolean endedByCanceller;

    RunExecution(Engine engine, Run run, AgentRegistry.RunAgent agent, String userId, Consumer<RunExecution> onEnd, RunOrigin origin) {
        this(engine, run, agent, userId, onEnd, null, null, engine.bus().lastSeq(run.id()), false, origin);
    }

    /** A run resumed here after its last pending tool call was decided (its log continues the stored one). */
    static RunExecution resumed(Engine engine, Run run, AgentRegistry.RunAgent agent, String userId, Consumer<RunExecution> onEnd,
                                RunOrigin origin) {
        return new RunExecution(engine, run, agent, userId, onEnd, null, null, engine.bus().lastSeq(run.id()), true, origin);
    }

    /**
     * A run started by the send that stored {@code userMessage} and the run's first step (its first
     * model turn, in progress): it has published nothing yet.
     */
    RunExecution(Engine engine, Run run, AgentRegistry.RunAgent agent, String userId, Consumer<RunExecution> onEnd, Message userMessage,
                 Step firstStep, RunOrigin origin) {
        this(engine, run, agent, userId, onEnd, Require.notNull(userMessage, "userMessage"),
                Require.notNull(firstStep, "firstStep"), 0, false, origin);
    }

    private RunExecution(Engine engine, Run run, AgentRegistry.RunAgent runAgent, String userId, Consumer<RunExecution> onEnd,
                         Message userMessage, Step firstStep, long lastSeq, boolean resumed, RunOrigin origin) {
        this.resumed = resumed;
        this.engine = engine;
        this.origin = origin == null ? RunOrigin.NONE : origin;
        this.agent = runAgent == null ? null : runAgent.agent();
        this.userId = userId;
        this.userMessage = userMessage;
        this.state = new RunState(engine.bus(), run, firstStep, lastSeq, () -> onEnd.accept(this));
        this.ender = new RunEnder(engine, state);
        this.modelCall = new ModelCall(engine, state, ender, cancellation);
        this.turns = agent == null ? null
                : new TurnLoop(engine, agent, runAgent.settings(), state, cancellation, modelCall, new ToolInvoker(engine, agent, userId, state, cancellation),
                        ender);
    }

    Run run() {
        return state.run();
    }

    /** The instructions the store holds for the run (empty: none), known without reading them back. */
    RunExecution withStoredInstructions(Optional<RunInstructions> stored) {
        state.storedInstructions = stored;
        return this;
    }

    /** The user the run executes for (its thread's owner). */
    String userId() {
        return userId;
    }

    /** Completes with the run as it ended (terminal, or as last stored when another party ended it). */
    CompletableFuture<Run> finished() {
        return state.finished();
    }

    /**
     * The run, its answer and its steps as stored, once it completed here (the same as reading them
     * back); empty while it runs and for a run that ended otherwise, which is read from the store.
     */
    Optional<RunOutcome> completedOutcome() {
        return Optional.ofNullable(state.completedOutcome);
    }

    /** True once the run is terminated, or its end is under way here (it is not waited for). */
    boolean isTerminated() {
        return state.isEndingOrTerminated();
    }

    /** True while the run's end, published already, waits for the store to answer again to be stored. */
    boolean isStoringEnd() {
        return state.endToStore;
    }

    /** Asks the run to stop: the model call is interrupted, a running tool is cancelled. */
    void cancel() {
        cancellation.cancel();
    }

    /**
     * After {@link #cancel}: when the run's thread waits in a model call, ends the run as cancelled on the
     * calling thread (its partial text, its open step and its status stored, {@code cancelled} published)
     * instead of waiting for that thread to wake from the cancel; the model's later tokens are dropped and the
     * thread, once it returns, finds the run ended. True when the run ended here (or had ended already); false
     * while the run is not in a model call (a tool call, a store write), which stops on its own thread.
     */
    boolean endCancelledInModelCall() {
        if (!modelCall.inCall()) {
            return false;
        }
        endedByCanceller = true;
        ender.finish(new Ending.Cancelled());
        state.end();
        return true;
    }

    /** False when the run completed and its end found no queued run on its thread to start next. */
    boolean runQueuedBehind() {
        return state.runQueuedBehind;
    }

    /** True when the run was ended on its canceller's thread ({@link #endCancelledInModelCall}). */
    boolean endedByCanceller() {
        return endedByCanceller;
    }

    /**
     * Stops a run that the store already holds as ended (another server cancelled it, or ended it after
     * its lease expired): it keeps its partial text and publishes the end of its stream, without first
     * trying to end the run itself. True the first time.
     */
    boolean stopEndedInStore(Run stored) {
        Require.that(stored.isTerminal(), "the stored run has ended");
        boolean first = ender.markEndedInStore(stored);
        cancellation.cancel();
        return first;
    }

    /**
     * Marks the run as handed to the run executor: its start is decided (the store holds it in
     * progress, held by this server), and only from then on may it be ended by force.
     */
    void markSubmitted() {
        submitted = true;
    }

    /** See {@link #markSubmitted}. */
    boolean isSubmitted() {
        return submitted;
    }

    /**
     * Ends the run as cancelled from another thread, whatever the executing thread is doing; used
     * when the run did not stop in time. The executing thread's later events are dropped.
     */
    void forceCancel() {
        cancellation.cancel();
        ender.finish(new Ending.Cancelled());
        state.end();
    }

    /** For an execution that never ran (another party started or ended the run first): releases its waiters. */
    void abandon() {
        state.abandon();
    }

    /**
     * Executes the run on the calling thread; returns when the run has ended, or when it waits for an
     * asynchronous model call without a thread (it goes on on {@code runThreads} once the model answered).
     */
    void execute(Executor runThreads) {
        Run current = run();
        TraceSpan span = engine.tracer().run(current, agent == null ? current.agentId() : agent.name(), origin, resumed);
        state.traceSpan = span;
        segment(current, span, () -> turns.run(current, userMessage, resumed, false), runThreads);
    }

    /**
     * Executes the run on the thread of a caller that waits for it, sparing the hand-off to a run thread
     * and back: returns when the run has ended, or once its first turn that asks for tools is stored; its
     * tool calls and further turns then go on on {@code runThreads} (see {@link TurnLoop#run}). True when
     * the run ended here.
     */
    boolean executeOnCallersThread(Executor runThreads) {
        Run current = run();
        TraceSpan span = engine.tracer().run(current, agent == null ? current.agentId() : agent.name(), origin, resumed);
        state.traceSpan = span;
        callersThread = true;
        try {
            return segment(current, span, () -> turns.run(current, userMessage, resumed, true), runThreads);
        } finally {
            callersThread = false;
        }
    }

    /** True while the run executes on the thread of a caller that waits for it (see {@link #executeOnCallersThread}). */
    boolean onCallersThread() {
        return callersThread;
    }

    /**
     * One stretch of the run's work on the calling thread, with the run's MDC, span and cancel: to the run's end, to a
     * {@link TurnLoop.HandOff}, whose rest is handed to {@code runThreads}, or to a {@link TurnLoop.Suspend}, whose rest
     * is handed to {@code runThreads} once its model call is over (both only when {@code runThreads} is given). True
     * when the run ended in this stretch.
     */
    private boolean segment(Run current, TraceSpan span, TurnLoop.Rest work, Executor runThreads) {
        modelCall.enter();
        String requestBefore = RunMdc.put(current.id().value(), current.threadId().value(), origin.requestId());
        TraceSpan.Scope scope = span.makeCurrent();
        Cancellation.Registration interrupting = cancellation.onCancel(modelCall::interrupt);
        TurnLoop.Rest rest = null;
        CompletableFuture<?> until = null;
        try {
            if (turns == null) {
                ender.finish(new Ending.Failed("agent_not_found", "The agent of this run is no longer configured"));
            } else {
                work.run();
            }
        } catch (TurnLoop.HandOff handOff) {
            if (runThreads == null) {
                ender.finish(internalError(current, "was handed off without a thread to go on", handOff));
            } else {
                rest = handOff.rest;
            }
        } catch (TurnLoop.Suspend suspend) {
            if (runThreads == null) {
                ender.finish(internalError(current, "waited for its model without a thread to go on", suspend));
            } else {
                rest = suspend.rest;
                until = suspend.until;
            }
        } catch (ApprovalGate.Paused paused) {
            log.debug("run {} waits for approval of tool calls", current.id());
        } catch (RunState.Stopped stopped) {
            log.debug("run {} was ended by another party", current.id());
        } catch (RunCancelledException e) {
            ender.finish(new Ending.Cancelled());
        } catch (InterruptedException e) {
            ender.finish(cancellation.isCancelled() ? new Ending.Cancelled() : internalError(current, "was interrupted", null));
        } catch (ModelException e) {
            if (cancellation.isCancelled()) {
                ender.finish(new Ending.Cancelled());
            } else {
                log.warn("run {} failed: model error {}: {}", current.id(), e.code(), e.getMessage());
                ender.finish(new Ending.Failed(e.code(), RunMessages.sanitize(e.getMessage(), "The model call failed")));
            }
        } catch (StorageUnavailableException e) {
            log.error("run {} failed: store unavailable", current.id(), e);
            ender.finish(new Ending.Failed("unavailable", "The store is unavailable"));
        } catch (RunFailure e) {
            log.info("run {} failed: {}", current.id(), e.getMessage());
            ender.finish(new Ending.Failed(e.code, e.getMessage()));
        } catch (RuntimeException | Error e) {
            if (cancellation.isCancelled()) {
                log.debug("run {} stopped by cancel with {}", current.id(), e.toString());
                ender.finish(new Ending.Cancelled());
            } else {
                ender.finish(internalError(current, "failed unexpectedly", e));
            }
        } finally {
            interrupting.close();
            modelCall.leave();
            if (rest == null) {
                state.end();
                engine.tracer().runEnded(span, state.run());
                scope.close();
                SafeTracer.end(span);
            } else {
                scope.close();
            }
            RunMdc.clear(requestBefore);
        }
        if (rest == null) {
            return true;
        }
        TurnLoop.Rest goOn = rest;
        callersThread = false;
        if (until == null) {
            goOn(current, span, goOn, runThreads);
        } else {
            until.whenComplete((answer, failure) -> goOn(current, span, goOn, runThreads));
        }
        return false;
    }

    /** The rest of the run's work, on a run thread. */
    private void goOn(Run current, TraceSpan span, TurnLoop.Rest rest, Executor runThreads) {
        try {
            runThreads.execute(() -> segment(current, span, rest, runThreads));
        } catch (RejectedExecutionException e) {
            log.warn("run {} could not go on: the executor refused it", current.id());
            forceCancel();
            engine.tracer().runEnded(span, state.run());
            SafeTracer.end(span);
        }
    }

    private static Ending internalError(Run run, String what, Throwable cause) {
        log.error("run {} {}", run.id(), what, cause);
        return new Ending.Failed("internal_error", "internal error");
    }
}
