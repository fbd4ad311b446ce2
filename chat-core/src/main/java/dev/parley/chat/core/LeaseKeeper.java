package dev.parley.chat.core;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.RunSignals;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this server's runs leased and the shared store tidy: renews leases, stops runs ended
 * elsewhere (on a hint or a periodic check), and runs the reaper for runs whose server is gone, both
 * by their expired leases and, on a store that can tell, as soon as their server is seen gone
 * ({@link LivenessWatch}).
 */
final class LeaseKeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

    private final Engine engine;
    private final RunScheduler scheduler;
    private final Reaper reaper;
    private final ApprovalDesk approvals;
    private final Duration reaperInterval;
    private final RunSignals.Registration runChanges;
    private final ReapGuard guard;
    /** Null when the store cannot tell live servers from gone ones, or when it is turned off. */
    private final LivenessWatch liveness;

    /**
     * Starts the renewals, the periodic check (unless {@code endedElsewhereCheck} is zero), the reaper
     * (unless zero) and, when the store can tell and {@code livenessGrace} is not zero, the liveness watch.
     */
    LeaseKeeper(Engine engine, RunScheduler scheduler, ApprovalDesk approvals, Duration reaperInterval, Duration endedElsewhereCheck,
                Duration livenessGrace) {
        this.engine = engine;
        this.approvals = approvals;
        this.scheduler = scheduler;
        this.reaper = new Reaper(engine);
        this.reaperInterval = reaperInterval;
        this.guard = new ReapGuard(scheduler.runLease());
        this.liveness = !livenessGrace.isZero() && engine.store().liveness().isSupported()
                ? new LivenessWatch(engine, scheduler, reaper, guard, livenessGrace) : null;
        if (!endedElsewhereCheck.isZero()) {
            long every = endedElsewhereCheck.toMillis();
            engine.timers().scheduleWithFixedDelay(this::stopRunsEndedElsewhere, every, every, TimeUnit.MILLISECONDS);
        }
        long renewEvery = Math.max(1, scheduler.runLease().toMillis() / 3);
        engine.timers().scheduleWithFixedDelay(this::renewLeases, renewEvery, renewEvery, TimeUnit.MILLISECONDS);
        if (!reaperInterval.isZero()) {
            long reapEvery = reaperInterval.toMillis();
            // a first pass soon after start: runs a crash left behind, queued runs nobody started
            engine.timers().scheduleWithFixedDelay(this::reapAndRecover, Math.min(reapEvery, 1000), reapEvery, TimeUnit.MILLISECONDS);
        }
        this.runChanges = engine.store().signals().onRunChanged(this::runChangedSomewhere);
    }

    /**
     * Stops listening to the store's hints and the liveness passes, and gives this server's liveness
     * signal up (the timers stop with the service's watchdog). Called once the service's runs stopped:
     * before, other servers could take it for gone and end its runs as {@code interrupted} before it
     * stored their ends.
     */
    @Override
    public void close() {
        runChanges.close();
        if (liveness != null) {
            liveness.close();
        }
    }

    /** Stops local runs whose status another server changed in the store (a cancel sent there). */
    private void stopRunsEndedElsewhere() {
        for (RunExecution execution : scheduler.executions()) {
            try {
                stopIfEndedElsewhere(execution);
            } catch (RuntimeException e) {
                log.debug("could not check run {}", execution.run().id(), e);
            }
        }
    }

    /** Stops a local run when the store says it ended: another server cancelled it, or ended it after its lease expired. */
    private void stopIfEndedElsewhere(RunExecution execution) {
        if (execution.isTerminated()) {
            return;
        }
        Optional<Run> stored = engine.store().runs().find(execution.run().id());
        if (stored.isEmpty() || !stored.get().isTerminal() || execution.isTerminated()) {
            return;
        }
        log.info("run {} was ended elsewhere as {}; stopping it", stored.get().id(), stored.get().status().wireName());
        if (!execution.stopEndedInStore(stored.get())) {
            return; // told before: its forced end is scheduled already
        }
        // the run's log has one writer, this server: a run that does not stop in time is ended here regardless
        try {
            engine.timers().schedule(() -> {
                if (!execution.isTerminated()) {
                    log.warn("run {} did not stop within {} ms; ending it", execution.run().id(), engine.cancelTimeout().toMillis());
                    execution.forceCancel();
                }
            }, engine.cancelTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("run {}: no forced end, the service is closed", execution.run().id());
        }
    }

    /**
     * A hint from the store: if the run executes here, look at it now, off the hint's thread and off
     * the watchdog's (where a pass of the reaper or of the lease renewals may be waiting for the store):
     * a cancel sent to another server waits for this.
     */
    private void runChangedSomewhere(RunId runId) {
        RunExecution execution = scheduler.execution(runId);
        if (execution == null || execution.isTerminated() || scheduler.isClosed()) {
            return;
        }
        try {
            engine.toolExecutor().execute(() -> {
                try {
                    stopIfEndedElsewhere(execution);
                } catch (RuntimeException e) {
                    log.debug("could not check run {}", runId, e);
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("run {} not checked: the service is closed", runId);
        }
    }

    /**
     * Renews the lease of every run executing here. A run whose lease cannot be renewed is no longer
     * in progress in the store: it is stopped. While the store is unreachable nothing is renewed (the
     * next pass tries again; a run whose lease expires meanwhile may be ended by another server).
     */
    private void renewLeases() {
        for (RunExecution execution : scheduler.executions()) {
            if (execution.isTerminated() && !execution.isStoringEnd()) {
                continue;
            }
            RunId runId = execution.run().id();
            try {
                if (!engine.store().runs().renewLease(runId, scheduler.instanceId(), engine.now().plus(scheduler.runLease()))) {
                    stopIfEndedElsewhere(execution);
                }
            } catch (StorageUnavailableException e) {
                log.debug("could not renew the lease of run {}: the store is unavailable", runId);
                return;
            } catch (RuntimeException e) {
                log.warn("could not renew the lease of run {}", runId, e);
            }
        }
    }

    /**
     * One pass of the reaper: ends the runs whose lease expired and starts the next run of their
     * threads, then starts queued runs that waited a whole interval on a thread with nothing in
     * progress (the server that queued them stopped, or could not start them). Runs of this server
     * are never ended here, also while they wait to store their end. When the store was unreachable,
     * expired leases are left alone for one more lease after it answers again: their servers could
     * not renew them meanwhile either. Runs waiting for approval past their decision time get their
     * undecided calls denied (reason {@code timeout}).
     */
    private void reapAndRecover() {
        if (scheduler.isClosed()) {
            return;
        }
        try {
            Instant now = engine.now();
            if (guard.wasUnavailable()) {
                engine.store().ping();
                // no server could renew its leases meanwhile: give the live ones a lease to do so and to store the
                // ends of their runs that ended during the outage, before taking their expired leases for death
                guard.answered(now);
            }
            if (guard.mayReap(now)) {
                for (ThreadId threadId : reaper.reapExpired(now, scheduler::executesHere,
                        liveness == null ? runId -> false : liveness::movedLease)) {
                    scheduler.dispatch(threadId);
                }
            }
            for (ThreadId threadId : reaper.threadsWithWaitingRuns(now.minus(reaperInterval))) {
                scheduler.dispatch(threadId);
            }
            approvals.denyDue(now);
        } catch (StorageUnavailableException e) {
            if (guard.unavailable()) {
                log.warn("the reaper could not reach the store; it will try again");
            }
        } catch (RuntimeException e) {
            log.error("the reaper failed; it will try again", e);
        }
    }
}
