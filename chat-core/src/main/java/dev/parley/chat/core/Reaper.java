package dev.parley.chat.core;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.out.TraceSpan;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the runs of servers that stopped. A run in progress whose lease expired has no server
 * renewing it any more (it expired by itself, or {@link LivenessWatch} moved it to now because its
 * server was seen gone): it is marked {@code failed} with code {@code interrupted} (or as its event
 * log already ended, when its server got that far but could not store the status), the text the
 * model had streamed in its last turn (the {@code token} events stored since the last tool event)
 * is kept as an {@code incomplete} assistant message, tool calls left without a result get one, and
 * an {@code error} event ends its stream for every reader on every server. All of that is one
 * transaction whose compare-and-set on the status and the lease decides races with a live owner's
 * renewal and with other servers' reapers; the event takes the seq after the last stored one, so
 * an owner that is still writing makes the transaction fail and the run is looked at again later.
 */
final class Reaper {
    private static final Logger log = LoggerFactory.getLogger(Reaper.class);
    static final String INTERRUPTED = "interrupted";
    static final String INTERRUPTED_MESSAGE = "The server running this run stopped before the run ended";
    /** Why a run was reaped, for the observer: its lease expired. */
    static final String BY_LEASE = "lease";
    /** Why a run was reaped, for the observer: its server was seen gone. */
    static final String BY_LIVENESS = "liveness";
    static final int BATCH = 50;
    static final int QUEUED_BATCH = 200;
    private static final int READ_PAGE = 500;
    private static final int RECENT_MESSAGES = 100;

    private final Engine engine;

    Reaper(Engine engine) {
        this.engine = engine;
    }

    /**
     * Ends the runs whose lease expired at {@code now}, but those {@code executingHere}; returns the
     * threads whose next queued run may now start. A run {@code seenGone} names (its lease was moved
     * because its server was seen gone) counts as ended {@link #BY_LIVENESS}.
     */
    List<ThreadId> reapExpired(Instant now, Predicate<RunId> executingHere, Predicate<RunId> seenGone) {
        Set<ThreadId> freed = new LinkedHashSet<>();
        for (Run run : engine.store().runs().expiredLeases(now, BATCH)) {
            if (!executingHere.test(run.id()) && reapTraced(run, now, seenGone.test(run.id()) ? BY_LIVENESS : BY_LEASE)) {
                freed.add(run.threadId());
            }
        }
        return List.copyOf(freed);
    }

    /**
     * {@link #reap(Run, Instant, String)} in a span of its own, linked to the request that sent the run; {@code cause} is
     * {@link #BY_LEASE} or {@link #BY_LIVENESS}. False when the run was not ended here (also when that
     * failed, which is logged); a store that cannot be reached is thrown.
     */
    boolean reapTraced(Run run, Instant now, String cause) {
        TraceSpan span = engine.tracer().isEnabled()
                ? engine.tracer().linked("reap", run.id(), engine.store().runs().origin(run.id())) : TraceSpan.NONE;
        try (TraceSpan.Scope scope = span.makeCurrent()) {
            return reap(run, now, cause);
        } catch (StorageUnavailableException e) {
            span.failed("unavailable", null);
            throw e;
        } catch (RuntimeException e) {
            span.failed("internal_error", null);
            log.warn("run {}: could not end it after its server stopped", run.id(), e);
            return false;
        } finally {
            SafeTracer.end(span);
        }
    }

    /** Threads with a run queued since before {@code queuedBefore}: each may need its next run started. */
    List<ThreadId> threadsWithWaitingRuns(Instant queuedBefore) {
        Set<ThreadId> threads = new LinkedHashSet<>();
        for (Run run : engine.store().runs().withStatus(RunStatus.QUEUED, QUEUED_BATCH)) {
            if (run.createdAt().isBefore(queuedBefore)) {
                threads.add(run.threadId());
            }
        }
        return List.copyOf(threads);
    }

    /**
     * Ends one run whose lease expired; false when it was no longer in progress or its lease was
     * renewed. {@code cause} goes to the observer and the log.
     */
    private boolean reap(Run run, Instant now, String cause) {
        List<RunEvent> events = readLog(run.id());
        RunEvent last = events.isEmpty() ? null : events.get(events.size() - 1);
        String partialText = openTurnText(events);
        List<Step> steps = engine.store().runs().steps(run.id());
        Usage total = Usage.ZERO;
        for (Step step : steps) {
            total = total.plus(step.usage());
        }
        if (!partialText.isEmpty()) {
            total = total.plus(Usage.estimated(0, TokenEstimate.ofChars(partialText.length())));
        }
        BigDecimal cost = engine.cost(run.model(), total);
        MessageId partialId = partialText.isEmpty() ? null : MessageId.next(engine.ids());

        Run ended;
        RunEvent.Error endOfStream = null;
        if (last instanceof RunEvent.Cancelled) {
            ended = run.cancelled(now, partialId, total, cost);
        } else if (last instanceof RunEvent.Error e) {
            ended = run.failed(now, new RunError(e.code(), e.message()), partialId, total, cost);
        } else {
            ended = run.failed(now, new RunError(INTERRUPTED, INTERRUPTED_MESSAGE), partialId, total, cost);
            if (last == null || !last.isTerminal()) {
                endOfStream = new RunEvent.Error(run.id(), last == null ? 1 : last.seq() + 1, INTERRUPTED, INTERRUPTED_MESSAGE);
            }
        }
        String reason = ended.error() != null ? ended.error().code() : "cancelled";
        RunEvent.Error finalEvent = endOfStream;
        try {
            engine.store().inTransaction(() -> {
                if (!engine.store().runs().updateIfLeaseExpired(ended, now)) {
                    throw new LostRace();
                }
                for (Step step : steps) {
                    if (!step.status().isTerminal()) {
                        engine.store().runs().updateStep(step.failed(now, reason, Usage.ZERO));
                    }
                }
                for (ToolCall call : unansweredToolCalls(run)) {
                    engine.store().messages().append(Message.toolResult(MessageId.next(engine.ids()), run.threadId(),
                            call.id(), "error: " + reason, now).inRun(run.id()));
                }
                if (partialId != null) {
                    engine.store().messages().append(Message.assistant(partialId, run.threadId(), partialText, now)
                            .inRun(run.id()).withStatus(MessageStatus.INCOMPLETE));
                }
                engine.touchThread(run.threadId(), now);
                if (finalEvent != null) {
                    engine.store().events().append(List.of(finalEvent));
                }
            });
        } catch (LostRace e) {
            return false;
        } catch (ConflictException e) {
            // its owner (or another server) wrote to the run meanwhile: look again next time
            log.debug("run {}: changed while being ended ({}); will look again", run.id(), e.code());
            return false;
        }
        engine.charged(ended);
        engine.reaped(ended, cause);
        log.warn("run {} on thread {} ended as {} ({}): {}", run.id(), run.threadId(), ended.status().wireName(), reason,
                BY_LIVENESS.equals(cause) ? "its server is gone" : "its server stopped renewing its lease");
        return true;
    }

    /** Every stored event of the run, in order. */
    private List<RunEvent> readLog(RunId runId) {
        List<RunEvent> all = new ArrayList<>();
        long after = 0;
        while (true) {
            List<RunEvent> page = engine.store().events().read(runId, after, READ_PAGE);
            all.addAll(page);
            if (page.size() < READ_PAGE) {
                return all;
            }
            after = page.get(page.size() - 1).seq();
        }
    }

    /**
     * The text streamed in the run's last model turn: the tokens after the last tool event (a turn
     * that asked for tools was stored with its text before its tools ran).
     */
    static String openTurnText(List<RunEvent> events) {
        StringBuilder text = new StringBuilder();
        for (RunEvent event : events) {
            if (event instanceof RunEvent.Token token) {
                text.append(token.content());
            } else if (event instanceof RunEvent.TraceStart || event instanceof RunEvent.TraceUpdate
                    || event instanceof RunEvent.TraceEnd) {
                text.setLength(0);
            }
        }
        return text.toString();
    }

    /** The tool calls of the run's last assistant message that no tool message answers yet. */
    List<ToolCall> unansweredToolCalls(Run run) {
        return unansweredToolCalls(engine, run);
    }

    /** The tool calls of the run's last assistant message that no tool message answers yet. */
    static List<ToolCall> unansweredToolCalls(Engine engine, Run run) {
        List<Message> recent = engine.store().messages().latest(run.threadId(), RECENT_MESSAGES);
        List<ToolCall> asked = List.of();
        Set<String> answered = new HashSet<>();
        for (Message m : recent) {
            if (!run.id().equals(m.runId())) {
                continue;
            }
            if (m.role() == Role.ASSISTANT && !m.toolCalls().isEmpty()) {
                asked = m.toolCalls();
                answered.clear();
            } else if (m.role() == Role.TOOL) {
                answered.add(m.toolCallId());
            }
        }
        List<ToolCall> open = new ArrayList<>();
        for (ToolCall call : asked) {
            if (!answered.contains(call.id())) {
                open.add(call);
            }
        }
        return open;
    }

    /** Rolls back the transaction of a run that was no longer in progress with an expired lease. */
    private static final class LostRace extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LostRace() {
            super(null, null, false, false);
        }
    }
}
