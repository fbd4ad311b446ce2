package dev.parley.chat.core;

import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.ApprovalCommand;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decisions on runs waiting for approval ({@code requires_action}), on any server: a person's, the
 * timeout's (deny with reason {@code timeout}), and the cancel of a waiting run.
 *
 * <p>A waiting run has no writer: every change to it is one transaction that first takes the run by a
 * compare-and-set on its status (which holds its row until commit, so deciders of one run go one at a
 * time on every store), then decides a step by a compare-and-set of its own, appends the event with the
 * seq after the stored log's last, and, when no call is left waiting, resumes the run here under this
 * server's lease. Of two racing decisions of one call exactly one is recorded; the other is
 * {@code not_awaiting_approval}. The last decision resumes the run exactly once.
 */
final class ApprovalDesk {
    private static final Logger log = LoggerFactory.getLogger(ApprovalDesk.class);
    /** The reason of a denial by the timeout. */
    static final String TIMEOUT = "timeout";
    static final int DUE_BATCH = 50;

    private final Engine engine;
    private final RunScheduler scheduler;

    ApprovalDesk(Engine engine, RunScheduler scheduler) {
        this.engine = engine;
        this.scheduler = scheduler;
    }

    /** A person's decision, for the owner of the run's thread; returns the run after it. */
    Run decide(ApprovalCommand command) {
        scheduler.requireOpen();
        RequestValidator.Errors errors = new RequestValidator.Errors();
        RequestValidator.approvalReason(command.reason(), errors);
        errors.throwIfAny();
        engine.store().threads().find(command.threadId()).filter(t -> t.isOwnedBy(command.userId()))
                .orElseThrow(() -> NotFoundException.thread(command.threadId()));
        Run run = engine.store().runs().find(command.runId()).filter(r -> r.threadId().equals(command.threadId()))
                .orElseThrow(() -> NotFoundException.run(command.runId()));
        return decide(run.id(), command.toolCallId(), command.decision(), ThreadDesk.blankToNull(command.reason()));
    }

    /** What a decision left: the run as stored after it, and whether it resumed the run. */
    private record Decided(Run run, boolean resumed) {
    }

    /** Decides one call of a waiting run and returns the run after it; resumes it here when the call was the last. */
    Run decide(RunId runId, String toolCallId, ApprovalDecision decision, String reason) {
        Instant now = engine.now();
        Decided decided;
        try {
            decided = engine.store().inTransaction(() -> decideInTransaction(runId, toolCallId, decision, reason, now));
        } catch (NotWaiting e) {
            throw whyNotWaiting(runId, toolCallId);
        }
        if (decided.resumed()) {
            log.debug("run {}: its last pending tool call was decided; it resumes here", runId);
            scheduler.resume(decided.run());
        }
        return decided.run();
    }

    private Decided decideInTransaction(RunId runId, String toolCallId, ApprovalDecision decision, String reason, Instant now) {
        Run waiting = takeWaiting(runId);
        List<Step> steps = engine.store().runs().steps(runId);
        Step step = steps.stream()
                .filter(s -> s.status() == StepStatus.AWAITING_APPROVAL && s.toolCall().id().equals(toolCallId))
                .findFirst().orElseThrow(NotWaiting::new);
        Step after = decision == ApprovalDecision.APPROVE ? step.approved() : step.denied(now, reason);
        if (!engine.store().runs().updateStep(after, StepStatus.AWAITING_APPROVAL)) {
            throw new NotWaiting();
        }
        appendNext(runId, seq -> new RunEvent.ApprovalDecided(runId, seq, step.id(), toolCallId, decision, reason));
        boolean last = steps.stream().noneMatch(s -> s != step && s.status() == StepStatus.AWAITING_APPROVAL);
        return last ? resumeInTransaction(waiting, now) : new Decided(waiting, false);
    }

    /** The waiting run, its row held until the transaction ends; {@link NotWaiting} when it waits no more. */
    private Run takeWaiting(RunId runId) {
        Run waiting = engine.store().runs().find(runId).orElseThrow(NotWaiting::new);
        if (waiting.status() != RunStatus.REQUIRES_ACTION || !engine.store().runs().update(waiting, RunStatus.REQUIRES_ACTION)) {
            throw new NotWaiting();
        }
        return waiting;
    }

    private Decided resumeInTransaction(Run waiting, Instant now) {
        if (scheduler.isClosed()) {
            // this server stops: the run stays waiting, with every call decided, due at once for the next pass of a live server
            engine.store().runs().expediteDecision(waiting.id(), now);
            return new Decided(waiting, false);
        }
        Run resumed = waiting.resumed();
        if (!engine.store().runs().resume(resumed, scheduler.instanceId(), now.plus(scheduler.runLease()))) {
            throw new NotWaiting();
        }
        return new Decided(resumed, true);
    }

    private void appendNext(RunId runId, java.util.function.LongFunction<RunEvent> event) {
        engine.store().events().append(List.of(event.apply(engine.store().events().lastSeq(runId) + 1)));
    }

    /** Why a decision found nothing to decide: an unknown call is {@code tool_call_not_found}, else {@code not_awaiting_approval}. */
    private ChatException whyNotWaiting(RunId runId, String toolCallId) {
        boolean known = engine.store().runs().steps(runId).stream()
                .anyMatch(s -> s.type() == StepType.TOOL_CALL && s.toolCall().id().equals(toolCallId));
        return known ? ConflictException.notAwaitingApproval("tool call " + toolCallId)
                : NotFoundException.toolCall(toolCallId);
    }

    /**
     * Cancels a waiting run: its open steps end {@code cancelled}, every call without a result gets one,
     * and {@code cancelled} ends its log, with the status in one transaction. Empty when the run waited
     * no more (look again).
     */
    Optional<Run> cancelWaiting(RunId runId) {
        Instant now = engine.now();
        Run cancelled;
        try {
            cancelled = engine.store().inTransaction(() -> {
                Run waiting = takeWaiting(runId);
                List<Step> steps = engine.store().runs().steps(runId);
                Usage total = Usage.ZERO;
                for (Step step : steps) {
                    total = total.plus(step.usage());
                }
                BigDecimal cost = engine.cost(waiting.model(), total);
                Run ended = waiting.cancelled(now, null, total, cost);
                if (!engine.store().runs().update(ended, RunStatus.REQUIRES_ACTION)) {
                    throw new NotWaiting();
                }
                List<RunEvent> events = new ArrayList<>();
                long seq = engine.store().events().lastSeq(runId);
                for (Step step : steps) {
                    if (!step.status().isTerminal()) {
                        Step end = step.cancelled(now, Usage.ZERO);
                        engine.store().runs().updateStep(end);
                        if (end.type() == StepType.TOOL_CALL) {
                            events.add(new RunEvent.TraceEnd(runId, ++seq, end.id(), StepStatus.CANCELLED, null, "cancelled",
                                    end.latencyMs()));
                        }
                    }
                }
                for (ToolCall call : Reaper.unansweredToolCalls(engine, waiting)) {
                    engine.store().messages().append(RunMessages.toolResult(engine, waiting, call.id(), "error: cancelled", now));
                }
                engine.touchThread(waiting.threadId(), now);
                events.add(new RunEvent.Cancelled(runId, ++seq, null));
                engine.store().events().append(events);
                return ended;
            });
        } catch (NotWaiting e) {
            return Optional.empty();
        }
        log.debug("waiting run {} cancelled", runId);
        scheduler.dispatch(cancelled.threadId());
        return Optional.of(cancelled);
    }

    /**
     * Denies, with reason {@code timeout}, the undecided calls of runs whose decision time passed (a
     * person's decision racing it wins or loses as a whole, call by call), and resumes a waiting run
     * whose calls were all decided on a server that stopped before resuming it.
     */
    void denyDue(Instant now) {
        for (Run run : engine.store().runs().decisionsDue(now, DUE_BATCH)) {
            try {
                List<Step> waiting = engine.store().runs().steps(run.id()).stream()
                        .filter(s -> s.status() == StepStatus.AWAITING_APPROVAL).toList();
                if (waiting.isEmpty()) {
                    resumeDecided(run.id(), now);
                }
                for (Step step : waiting) {
                    try {
                        decide(run.id(), step.toolCall().id(), ApprovalDecision.DENY, TIMEOUT);
                        log.info("run {}: tool call {} was denied, its approval timed out", run.id(), step.toolCall().id());
                    } catch (ConflictException | NotFoundException e) {
                        log.debug("run {}: tool call {} was decided before its timeout", run.id(), step.toolCall().id());
                    }
                }
            } catch (StorageUnavailableException e) {
                throw e;
            } catch (RuntimeException e) {
                log.warn("run {}: could not deny its tool calls after their timeout", run.id(), e);
            }
        }
    }

    private void resumeDecided(RunId runId, Instant now) {
        try {
            Decided decided = engine.store().inTransaction(() -> {
                Run waiting = takeWaiting(runId);
                boolean undecided = engine.store().runs().steps(runId).stream()
                        .anyMatch(s -> s.status() == StepStatus.AWAITING_APPROVAL);
                return undecided ? new Decided(waiting, false) : resumeInTransaction(waiting, now);
            });
            if (decided.resumed()) {
                scheduler.resume(decided.run());
            }
        } catch (NotWaiting e) {
            log.debug("run {} waits no more", runId);
        }
    }

    /** Rolls back a change to a run that waits no more, or to a call that waits no more. */
    private static final class NotWaiting extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotWaiting() {
            super(null, null, false, false);
        }
    }
}
