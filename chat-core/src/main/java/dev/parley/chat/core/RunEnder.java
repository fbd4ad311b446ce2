package dev.parley.chat.core;

import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.TraceSpan;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single path by which a run executing here ends ({@link #finish}), completed, cancelled or failed,
 * or as the store holds it when another party ended it first.
 *
 * <p>The run's last changes and its terminal status go in one transaction whose compare-and-set
 * decides races with other parties; its terminal event follows (or commits with it, for {@code done}).
 */
final class RunEnder {
    private static final Logger log = LoggerFactory.getLogger(RunEnder.class);
    static final String THREAD_DELETED = "thread_deleted";

    private final Engine engine;
    private final RunState state;
    /** The run as the store held it, ended by another party: a cancel stops without trying to end it here. */
    private volatile Run endedInStore;

    RunEnder(Engine engine, RunState state) {
        this.engine = engine;
        this.state = state;
    }

    /** The store holds the run as ended by another party; a later {@code Cancelled} ending takes that end. */
    boolean markEndedInStore(Run stored) {
        boolean first = endedInStore == null;
        endedInStore = stored;
        return first;
    }

    /** Ends the run; safe to call from any thread, more than once (only the first end counts). */
    void finish(Ending ending) {
        state.lock.lock();
        try {
            if (state.terminated) {
                return;
            }
            TraceSpan span = engine.tracer().transaction("end", state.run.id());
            state.ending = true;
            try {
                if (ending instanceof Ending.Completed completed) {
                    finishCompleted(completed);
                } else if (ending instanceof Ending.Cancelled && endedInStore != null) {
                    endedElsewhere(Optional.of(endedInStore));
                } else {
                    finishEarly((Ending.Early) ending);
                }
            } catch (RuntimeException | Error e) {
                span.failed(e instanceof ChatException c ? c.code() : "internal_error", null);
                throw e;
            } finally {
                state.ending = false;
                SafeTracer.end(span);
            }
        } finally {
            state.lock.unlock();
        }
    }

    /** The answer, the turn's end and the completed run commit together with {@code done}, which is never published before. */
    private void finishCompleted(Ending.Completed ending) {
        RunState s = state;
        s.reconcile(ending.response());
        s.usage = s.usage.plus(ending.turnUsage());
        Instant now = engine.now();
        Usage total = s.usage;
        BigDecimal cost = engine.cost(s.run.model(), total);
        // an answer the model stopped at the output token limit is kept as it is, marked cut short
        FinishReason finish = FinishReason.ofModel(ending.response().finishReason());
        Message message = RunMessages.assistant(engine, s.run, s.turnText.toString(), List.of(),
                        finish == FinishReason.LENGTH ? MessageStatus.INCOMPLETE : MessageStatus.COMPLETED, now)
                .withThinking(s.turnThinking.toString()).withUsage(ending.turnUsage());
        Run completed = s.run.completed(now, message.id(), total, cost);
        RunEvent done = new RunEvent.Done(completed.id(), s.seq + 1, completed.threadId(), message.id(), total, cost, finish);
        Step turnEnd = ending.turn().completed(now, null, ending.turnUsage());
        ChatStore.Completion completion;
        try {
            // appending the answer moves the thread's updated_at
            completion = engine.bus().publishWith(done, engine.store(),
                    () -> engine.store().completeRunAndLook(message, turnEnd, completed, RunStatus.IN_PROGRESS));
        } catch (ConflictException e) {
            if (e.reason() != ConflictException.Reason.RUN_ENDED) {
                throw e;
            }
            completion = null; // ended by another party (a cancel, the reaper), whose end stands
        }
        if (completion == null) {
            endedElsewhere();
            return;
        }
        Message stored = completion.answer();
        s.runQueuedBehind = completion.runQueued();
        s.storedSteps.put(turnEnd.id(), turnEnd);
        // what the store recorded, so that an awaited outcome equals the run read back later
        Optional<RunInstructions> instructions = s.storedInstructions != null ? s.storedInstructions
                : engine.store().runs().instructions(completed.id());
        s.completedOutcome = new RunOutcome(completed, stored, List.copyOf(s.storedSteps.values()), instructions.orElse(null));
        s.run = completed;
        engine.charged(completed);
        s.openStep = null;
        s.turnText.setLength(0);
        s.seq = done.seq();
        s.terminated = true;
    }

    /** What an end stored: the run as ended, and the partial answer it kept (or null). */
    private record Stored(Run run, MessageId kept) {
        static final Stored NOTHING = new Stored(null, null);
    }

    /**
     * Ends the run early, keeping the partial text. While the store cannot be reached the end is
     * published at once and stored once it answers again ({@link EndStorer}); a store that refuses
     * the leftovers gets the status alone.
     */
    private void finishEarly(Ending.Early ending) {
        RunState s = state;
        Instant now = engine.now();
        Usage partial = s.partialTurnUsage();
        Usage total = s.usage.plus(partial);
        BigDecimal cost = engine.cost(s.run.model(), total);
        Step step = s.openStep;
        Step stepEnd = step == null ? null
                : ending.endStep(step, now, step.type() == StepType.MESSAGE_CREATION ? partial : Usage.ZERO);
        Supplier<Stored> write = () -> {
            MessageId kept = storeLeftovers(now, ending.reason(), stepEnd).orElse(null);
            Run ended = ending.end(s.run, now, kept, total, cost);
            if (!engine.store().runs().update(ended, s.run.status())) {
                throw new LostRace();
            }
            engine.touchThread(s.run.threadId(), now);
            return new Stored(ended, kept);
        };
        Supplier<Stored> statusOnly = () -> statusOnly(ending, now, total, cost);
        Stored stored;
        boolean storeLater = false;
        try {
            stored = transaction(write);
        } catch (RuntimeException e) {
            // not decided by a ping: a store that came back meanwhile would answer it, and the partial text be lost
            if (e instanceof StorageUnavailableException) {
                log.warn("run {}: the store is unavailable; its end ({}) is stored once it answers again", s.run.id(), ending.reason());
                storeLater = true;
                stored = Stored.NOTHING;
            } else {
                log.error("run {}: could not store its end ({}) with its partial answer", s.run.id(), ending.reason(), e);
                stored = statusOnly.get();
            }
        }
        if (stored == null) {
            endedElsewhere();
            return;
        }
        if (stored.run() != null) {
            s.run = stored.run();
            s.leftoversStored();
            engine.charged(stored.run());
        }
        s.openStep = null;
        MessageId kept = stored.kept();
        if (stepEnd != null && stepEnd.type() == StepType.TOOL_CALL) {
            s.emitQuietly(q -> new RunEvent.TraceEnd(s.run.id(), q, stepEnd.id(), ending.stepStatus(), null, ending.reason(),
                    stepEnd.latencyMs()));
        }
        s.emitTerminal(q -> ending.terminalEvent(s.run.id(), q, kept));
        if (storeLater) {
            s.endToStore = true;
            new EndStorer(engine, s, () -> runOf(transaction(write)), () -> runOf(statusOnly.get()), engine.bus().lastSeq(s.run.id()))
                    .schedule(EndStorer.RETRY_FIRST_MILLIS);
        }
    }

    private static Run runOf(Stored stored) {
        return stored == null ? null : stored.run();
    }

    /** The end's status alone, when its leftovers could not be stored: null when another party ended the run first. */
    private Stored statusOnly(Ending.Early ending, Instant now, Usage total, BigDecimal cost) {
        try {
            return transaction(() -> {
                Run ended = ending.end(state.run, now, null, total, cost);
                if (!engine.store().runs().update(ended, state.run.status())) {
                    throw new LostRace();
                }
                return new Stored(ended, null);
            });
        } catch (RuntimeException e) {
            log.error("run {}: could not store its end ({})", state.run.id(), ending.reason(), e);
            return Stored.NOTHING;
        }
    }

    /**
     * Stores what a run that ends early leaves behind: the in-flight step's end, a result for every
     * tool call that got none (so the history stays well-formed), and the partial text of the
     * current turn as an incomplete assistant message. Called in a transaction, under the lock.
     */
    private Optional<MessageId> storeLeftovers(Instant now, String reason, Step stepEnd) {
        RunState s = state;
        if (stepEnd != null) {
            engine.store().runs().updateStep(stepEnd);
        }
        for (ToolCall call : s.pendingCalls) {
            engine.store().messages().append(RunMessages.toolResult(engine, s.run, call.id(), "error: " + reason, now));
        }
        if (s.turnText.length() == 0) {
            return Optional.empty();
        }
        Message partial = engine.store().messages().append(
                RunMessages.assistant(engine, s.run, s.turnText.toString(), List.of(), MessageStatus.INCOMPLETE, now)
                        .withThinking(s.turnThinking.toString()).withUsage(s.partialTurnUsage()));
        return Optional.of(partial.id());
    }

    /**
     * The store says the run is no longer in progress although this server did not end it: another
     * server (or a forced cancel) did. When it was cancelled, this run still owns the event log, so
     * it keeps the partial text and publishes the {@code cancelled} event itself.
     */
    private void endedElsewhere() {
        Optional<Run> stored = Optional.empty();
        try {
            stored = engine.store().runs().find(state.run.id());
        } catch (RuntimeException e) {
            log.warn("run {}: could not read its status", state.run.id(), e);
        }
        endedElsewhere(stored);
    }

    /** See {@link #endedElsewhere()}, with the run as the store holds it. */
    private void endedElsewhere(Optional<Run> stored) {
        RunState s = state;
        if (stored.isPresent() && stored.get().status() == RunStatus.CANCELLED) {
            Run cancelled = stored.get();
            Instant now = engine.now();
            Step stepEnd = s.openStep == null ? null : s.openStep.cancelled(now, Usage.ZERO);
            Optional<MessageId> kept = Optional.empty();
            try {
                kept = engine.store().inTransaction(() -> storeLeftovers(now, "cancelled", stepEnd));
                s.leftoversStored();
            } catch (RuntimeException e) {
                log.warn("run {}: could not keep its partial text", s.run.id(), e);
            }
            s.run = cancelled;
            s.openStep = null;
            MessageId keptId = kept.orElse(null);
            if (stepEnd != null && stepEnd.type() == StepType.TOOL_CALL) {
                s.emitQuietly(q -> new RunEvent.TraceEnd(cancelled.id(), q, stepEnd.id(), StepStatus.CANCELLED, null, "cancelled",
                        stepEnd.latencyMs()));
            }
            s.emitTerminal(q -> new RunEvent.Cancelled(cancelled.id(), q, keptId));
        } else if (stored.isPresent() && stored.get().status() == RunStatus.FAILED) {
            // another server ended it after its lease expired, and stored what it had; readers here
            // still need the end of the stream this server was publishing
            Run failed = stored.get();
            log.warn("run {} was ended elsewhere as failed ({})", failed.id(), failed.error().code());
            s.run = failed;
            s.openStep = null;
            s.emitTerminal(q -> new RunEvent.Error(failed.id(), q, failed.error().code(), failed.error().message()));
        } else if (stored.isEmpty()) {
            // its thread was deleted under it: its readers still need the end of the stream
            log.warn("run {} is no longer in the store (its thread was deleted)", s.run.id());
            s.openStep = null;
            s.emitTerminal(q -> new RunEvent.Error(s.run.id(), q, THREAD_DELETED, "The thread was deleted while the run executed"));
        } else {
            log.warn("run {} was ended elsewhere as {}", s.run.id(), stored.get().status().wireName());
            s.run = stored.get();
            s.terminated = true;
        }
    }

    /** Runs {@code work} in a transaction; null when its compare-and-set lost (and it rolled back). */
    private <T> T transaction(Supplier<T> work) {
        try {
            return engine.store().inTransaction(work);
        } catch (LostRace e) {
            return null;
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
