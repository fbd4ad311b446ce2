package dev.parley.chat.core;

import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.TraceSpan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of one run executing here, under its lock: the run, its open turn, its event log's
 * seq (the run is the only writer of its events), and the signal that it has ended.
 *
 * <p>The lock guards every field that is not final or volatile, and every publish of the run's
 * events. It is held across store calls, so it is a lock and not a monitor: a virtual thread that
 * waits here, or for a pooled connection while holding it, does not pin its carrier on JDK 21 to 23.
 */
final class RunState {
    private static final Logger log = LoggerFactory.getLogger(RunState.class);

    final ReentrantLock lock = new ReentrantLock();
    private final RunEventBus bus;
    private final Runnable onEnd;

    Run run;
    long seq;
    boolean terminated;
    final StringBuilder turnText = new StringBuilder(0);
    /** The reasoning text the open turn streamed, stored with the turn's assistant message (most turns have none). */
    final StringBuilder turnThinking = new StringBuilder(0);
    Step openStep;
    /** The first model turn's step, stored with the run by its send and not yet begun; else null. */
    Step storedFirstStep;
    /** The run's steps as stored, in position order: known here while every write of them committed. */
    final Map<StepId, Step> storedSteps = new LinkedHashMap<>(4); // most runs have a step or two
    long openTurnPromptTokens;
    /** Deltas (text and thinking) the open turn streamed: each is at least one token the model produced. */
    long openTurnDeltas;
    /** Characters of thinking the open turn streamed. */
    long openTurnThinkingChars;
    /** The open turn's usage once the model has answered; until then it is estimated from the streamed text. */
    Usage openTurnUsage;
    int stepPosition;
    Usage usage = Usage.ZERO;
    /** Tool calls of the run that have no result stored yet. */
    final List<ToolCall> pendingCalls = new ArrayList<>();

    /**
     * False when the run completed here and its end's transaction found no queued run on its thread (see
     * {@link dev.parley.chat.port.out.ChatStore#completeRunAndLook}): nothing to start after it. True otherwise.
     */
    volatile boolean runQueuedBehind = true;
    /** What the run completed with, as stored; null until it completed here. */
    volatile RunOutcome completedOutcome;
    /**
     * The instructions the store holds for the run (empty when it keeps none), when known without reading
     * them back (the send recorded them, or the start read them); null otherwise.
     */
    volatile Optional<RunInstructions> storedInstructions;
    /** An end of the run is under way here ({@link RunEnder#finish} holds the lock), so it is about to be terminated. */
    volatile boolean ending;
    /** The run's end is published but not stored yet: {@link #end} waits for it. */
    volatile boolean endToStore;
    /** The run's span while it executes here, the parent of its model and tool call spans. */
    volatile TraceSpan traceSpan = TraceSpan.NONE;
    private final CompletableFuture<Run> finished = new CompletableFuture<>();
    private final AtomicBoolean ended = new AtomicBoolean();

    RunState(RunEventBus bus, Run run, Step firstStep, long lastSeq, Runnable onEnd) {
        this.bus = bus;
        this.run = run;
        this.seq = lastSeq;
        this.onEnd = onEnd;
        // a run that ends before its first turn begins ends this step with it
        this.storedFirstStep = firstStep;
        this.openStep = firstStep;
        this.stepPosition = firstStep == null ? 0 : firstStep.position();
    }

    Run run() {
        lock.lock();
        try {
            return run;
        } finally {
            lock.unlock();
        }
    }

    /**
     * True once the run is terminated or its end is under way here; unlike {@link #isTerminated} it does
     * not wait for an end under way (a store's hint that the run ended, sent when that end committed,
     * would otherwise wait for the rest of the end on the run's lock).
     */
    boolean isEndingOrTerminated() {
        return ending || isTerminated();
    }

    boolean isTerminated() {
        lock.lock();
        try {
            return terminated;
        } finally {
            lock.unlock();
        }
    }

    /** Completes with the run as it ended (terminal, or as last stored when another party ended it). */
    CompletableFuture<Run> finished() {
        return finished;
    }

    // ---- events ------------------------------------------------------------------------------

    /** Publishes with the next seq; {@link Stopped} once the run is terminated. */
    void emit(LongFunction<RunEvent> event) {
        lock.lock();
        try {
            if (terminated) {
                throw new Stopped();
            }
            emitLocked(event);
        } finally {
            lock.unlock();
        }
    }

    /** Publishes with the next seq; nothing once the run is terminated. Called under the lock. */
    void emitLocked(LongFunction<RunEvent> event) {
        if (terminated) {
            return;
        }
        RunEvent e = event.apply(seq + 1);
        bus.publish(e);
        seq = e.seq();
    }

    /** Like {@link #emitLocked}; a failure to publish is logged. */
    void emitQuietly(LongFunction<RunEvent> event) {
        try {
            emitLocked(event);
        } catch (RuntimeException e) {
            log.warn("run {}: could not publish an event", run.id(), e);
        }
    }

    /** Publishes the terminal event; the run is terminated afterwards even when publishing failed. Under the lock. */
    void emitTerminal(LongFunction<RunEvent> event) {
        try {
            emitLocked(event);
        } catch (RuntimeException e) {
            log.error("run {}: could not publish its terminal event", run.id(), e);
        } finally {
            terminated = true;
        }
    }

    /** Runs {@code work} under the lock unless the run was ended meanwhile ({@link Stopped}). */
    <T> T guarded(Supplier<T> work) {
        lock.lock();
        try {
            if (terminated) {
                throw new Stopped();
            }
            return work.get();
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code work} under the lock unless the run is terminated already. */
    void unlessTerminated(Runnable work) {
        lock.lock();
        try {
            if (!terminated) {
                work.run();
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- the open turn -----------------------------------------------------------------------

    /** Opens a model turn on {@code step}, whose prompt is about {@code promptTokens}. Under the lock. */
    void openTurn(Step step, long promptTokens) {
        storedSteps.put(step.id(), step);
        openStep = step;
        openTurnPromptTokens = promptTokens;
        openTurnUsage = null;
        openTurnDeltas = 0;
        openTurnThinkingChars = 0;
        turnText.setLength(0);
        turnThinking.setLength(0);
    }

    /**
     * Makes the turn's streamed text agree with the model's final text: a model that streamed less
     * than it answered (or nothing) gets the rest sent as one more token. Called under the lock.
     */
    void reconcile(ModelResponse response) {
        String streamed = turnText.toString();
        String full = response.text();
        if (full.equals(streamed)) {
            return;
        }
        if (full.startsWith(streamed)) {
            String rest = full.substring(streamed.length());
            turnText.append(rest);
            openTurnDeltas++;
            emitLocked(s -> new RunEvent.Token(run.id(), s, rest));
        } else {
            log.warn("run {}: the model's final text differs from what it streamed; keeping the streamed text", run.id());
        }
    }

    /** What the open model turn used so far (zero when no model turn is open). Under the lock. */
    Usage partialTurnUsage() {
        if (openStep == null || openStep.type() != StepType.MESSAGE_CREATION || storedFirstStep != null) {
            return Usage.ZERO;
        }
        if (openTurnUsage != null) {
            return openTurnUsage;
        }
        // what the model produced before the end: never fewer tokens than it streamed deltas
        long estimated = TokenEstimate.ofChars(turnText.length()) + TokenEstimate.ofChars(openTurnThinkingChars);
        return Usage.estimated(openTurnPromptTokens, Math.max(estimated, openTurnDeltas));
    }

    /** Forgets the leftovers an end stored (partial text, open step, pending calls), once its transaction committed. */
    void leftoversStored() {
        pendingCalls.clear();
        turnText.setLength(0);
        turnThinking.setLength(0);
        openStep = null;
    }

    // ---- the end -----------------------------------------------------------------------------

    /** For an execution that never ran (another party started or ended the run first): releases its waiters. */
    void abandon() {
        if (ended.compareAndSet(false, true)) {
            finished.complete(run());
        }
    }

    /** Signals the run's end to its waiters and its scheduler, unless its end waits to be stored. */
    void end() {
        if (endToStore) {
            return; // ended by the end storer, once the end is stored
        }
        if (ended.compareAndSet(false, true)) {
            finished.complete(run());
            onEnd.run();
        }
    }

    /** Someone else ended the run; the executing thread stops without another event. */
    static final class Stopped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stopped() {
            super(null, null, false, false);
        }
    }
}
