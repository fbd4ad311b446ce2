package dev.parley.chat.core;

import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.port.out.TraceSpan;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels runs, here or across servers: a queued run at once, a run executing here through its
 * execution, a run executing elsewhere through the store (its owner publishes the end).
 */
final class Canceller {
    private static final Logger log = LoggerFactory.getLogger(Canceller.class);

    private final Engine engine;
    private final RunScheduler scheduler;
    private final Duration cancelTimeout;
    private final ApprovalDesk approvals;

    Canceller(Engine engine, RunScheduler scheduler, ApprovalDesk approvals, Duration cancelTimeout) {
        this.engine = engine;
        this.approvals = approvals;
        this.scheduler = scheduler;
        this.cancelTimeout = cancelTimeout;
    }

    /** Cancels the thread's run in progress, else its oldest queued one; {@code no_active_run} when it has none. */
    Run cancelActive(ThreadId threadId) {
        List<Run> active = engine.store().runs().active(threadId);
        Run target = active.stream().filter(r -> r.status().holdsThread()).findFirst()
                .orElseGet(() -> active.isEmpty() ? null : active.get(0));
        if (target == null) {
            throw ConflictException.noActiveRun("thread " + threadId);
        }
        return cancel(target.id(), target);
    }

    /**
     * Cancels the run and returns it once it is terminal: a queued run at once, a run executing
     * here when it has stored its partial answer, a run waiting for approval at once and published {@code cancelled} (at most
     * {@code cancelTimeout}, then it is ended regardless). Ended already: {@code no_active_run}.
     * {@code known} is the run as just read, or null.
     */
    Run cancel(RunId runId, Run known) {
        if (!engine.tracer().isEnabled()) {
            return cancelUntraced(runId, known);
        }
        TraceSpan span = engine.tracer().linked("cancel", runId, engine.store().runs().origin(runId));
        try (TraceSpan.Scope scope = span.makeCurrent()) {
            return cancelUntraced(runId, known);
        } catch (RuntimeException e) {
            span.failed(e instanceof ChatException c ? c.code() : "internal_error", null);
            throw e;
        } finally {
            SafeTracer.end(span);
        }
    }

    private Run cancelUntraced(RunId runId, Run known) {
        for (int attempt = 0; attempt < ChatService.STATE_ATTEMPTS; attempt++) {
            Run run = attempt == 0 && known != null ? known
                    : engine.store().runs().find(runId).orElseThrow(() -> NotFoundException.run(runId));
            if (run.isTerminal()) {
                throw ConflictException.noActiveRun("run " + runId);
            }
            if (run.status() == RunStatus.QUEUED) {
                if (scheduler.cancelQueued(run)) {
                    return engine.store().runs().find(runId).orElse(run);
                }
                continue;
            }
            if (run.status() == RunStatus.REQUIRES_ACTION) {
                Optional<Run> cancelled = approvals.cancelWaiting(runId);
                if (cancelled.isPresent()) {
                    return cancelled.get();
                }
                continue;
            }
            RunExecution execution = scheduler.execution(runId);
            if (execution != null) {
                Run ended = stopAndWait(execution);
                if (!ended.isTerminal()) {
                    // an execution that never ran: its start lost to another server's; look again
                    continue;
                }
                if (ended.status() != RunStatus.CANCELLED) {
                    throw ConflictException.noActiveRun("run " + runId);
                }
                return ended;
            }
            long lastSeq = engine.bus().lastSeq(runId);
            Run cancelled = run.cancelled(engine.now(), null, run.usage(), run.costUsd());
            if (engine.store().runs().update(cancelled, RunStatus.IN_PROGRESS)) {
                awaitCancelledElsewhere(runId, lastSeq);
                return engine.store().runs().find(runId).orElse(cancelled);
            }
        }
        throw ConflictException.noActiveRun("run " + runId);
    }

    /** Cancels every queued and in-progress run of the thread, waiting for each to end. */
    void stopActiveRuns(ThreadId threadId) {
        for (Run run : engine.store().runs().active(threadId)) {
            try {
                cancel(run.id(), null);
            } catch (ConflictException e) {
                log.debug("run {} ended before it could be cancelled", run.id());
            }
        }
    }

    /** For watchdogs and disconnects: cancels without telling anyone that there was nothing to cancel. */
    void cancelQuietly(RunId runId) {
        try {
            cancel(runId, null);
        } catch (ConflictException | NotFoundException e) {
            log.debug("run {} was not active any more", runId);
        } catch (RuntimeException e) {
            log.warn("run {} could not be cancelled", runId, e);
        }
    }

    private Run stopAndWait(RunExecution execution) {
        execution.cancel();
        try {
            // an end that waits for the store to answer again is waited for below, as one stored by the run's thread
            if (execution.endCancelledInModelCall() && !execution.isStoringEnd()) {
                return execution.run();
            }
        } catch (RuntimeException e) {
            log.warn("run {} could not be ended on its canceller's thread; waiting for its own", execution.run().id(), e);
        }
        try {
            return execution.finished().get(cancelTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("run {} did not stop within {} ms of its cancel; ending it", execution.run().id(), cancelTimeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.error("run {} ended abnormally", execution.run().id(), e.getCause());
        }
        if (execution.isSubmitted()) {
            execution.forceCancel();
        }
        // else its start is still being decided (here, or lost to another server): the caller looks again
        return execution.run();
    }

    /**
     * The run executes on another server, which notices the cancel in the store, stops, keeps the
     * partial text and publishes {@code cancelled}: the run's log has one writer. Only when that
     * server is gone (its lease on the run expired) and stayed silent is the event published here,
     * so that readers see the end; a live owner that notices late ends the run itself, within its
     * own cancel timeout of noticing.
     */
    private void awaitCancelledElsewhere(RunId runId, long afterSeq) {
        long deadline = System.nanoTime() + cancelTimeout.toNanos();
        try (RunSubscription events = engine.bus().subscribe(runId, afterSeq)) {
            long remaining;
            while ((remaining = deadline - System.nanoTime()) > 0 && !events.isFinished()) {
                Optional<RunEvent> event = events.next(Duration.ofNanos(remaining));
                if (event.isPresent() && event.get().isTerminal()) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            Optional<Instant> lease = engine.store().runs().leaseExpiresAt(runId);
            Instant now = engine.now();
            if (lease.isPresent() && lease.get().isAfter(now)) {
                // its owner renews no lease of a cancelled run: by the lease's end (and one cancel timeout
                // more) a live owner has ended the stream, so an end still missing then means it is gone
                log.info("run {}: its server has not stopped it yet; it publishes the cancel when it does", runId);
                long delay = Duration.between(now, lease.get()).plus(cancelTimeout).toMillis();
                engine.timers().schedule(() -> engine.toolExecutor().execute(() -> publishIfUnended(runId)), delay,
                        TimeUnit.MILLISECONDS);
                return;
            }
            publishIfUnended(runId);
        } catch (RejectedExecutionException e) {
            log.debug("run {}: no later look at its stream, the service is closed", runId);
        } catch (RuntimeException e) {
            log.warn("run {}: could not publish its cancel", runId, e);
        }
    }

    /** Publishes {@code cancelled} for a cancelled run whose log has no terminal event (its server is gone). */
    private void publishIfUnended(RunId runId) {
        try {
            long last = engine.bus().lastSeq(runId);
            if (last > 0) {
                try (RunSubscription events = engine.bus().subscribe(runId, last - 1)) {
                    Optional<RunEvent> lastEvent = events.next(Duration.ofSeconds(1));
                    if (lastEvent.isPresent() && lastEvent.get().isTerminal()) {
                        return;
                    }
                }
            }
            log.warn("run {}: its server ended no stream after its cancel; publishing the end here", runId);
            engine.bus().publish(new RunEvent.Cancelled(runId, last + 1, null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("run {}: could not publish its cancel", runId, e);
        }
    }
}
