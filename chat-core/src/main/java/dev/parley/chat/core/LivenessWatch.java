package dev.parley.chat.core;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ServerLiveness;
import dev.parley.chat.port.out.ServerLiveness.OwnerState;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the runs of servers that are gone without waiting for their leases, on a store that can tell
 * ({@link ServerLiveness}): this server holds its own signal and beats, and a pass every sixth of the
 * grace looks at the owners of runs in progress. An owner {@link GoneOwners} takes for gone has its
 * leases moved to now (a compare-and-set on its signal and its beat), and its runs are ended at once
 * the way the reaper ends runs whose lease expired. Nothing is judged while this server does not hold
 * its own signal, and the {@link ReapGuard} holds everything back after a store outage. Passes run on a
 * thread of their own, so that neither the lease renewals nor the reaper wait behind them.
 */
final class LivenessWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LivenessWatch.class);
    private static final int WARN_AFTER_UNAVAILABLE = 5;

    private final Engine engine;
    private final RunScheduler scheduler;
    private final Reaper reaper;
    private final ReapGuard guard;
    private final Duration grace;
    private final ServerLiveness liveness;
    private final ServerLiveness.Signal own;
    private final GoneOwners judge;
    /** Passes in a row that could not reach the store; touched by the check's one thread only. */
    private int unavailableInARow;
    private final ScheduledExecutorService passes;
    /** The takes of this server's signal at the last pass; guarded by the single pass thread. */
    private long ownTakes = -1;
    /** Runs whose lease a pass moved and is ending: a reaper pass that meets one first ends it for the same cause. */
    private final Set<RunId> moved = ConcurrentHashMap.newKeySet();

    /** Holds this server's signal and starts the passes. */
    LivenessWatch(Engine engine, RunScheduler scheduler, Reaper reaper, ReapGuard guard, Duration grace) {
        this.engine = engine;
        this.scheduler = scheduler;
        this.reaper = reaper;
        this.guard = guard;
        this.grace = grace;
        this.liveness = engine.store().liveness();
        this.judge = new GoneOwners(grace);
        long every = Math.max(10, grace.toMillis() / 6);
        this.own = liveness.hold(scheduler.instanceId(), Duration.ofMillis(every));
        ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, Threads.platformFactory("parley-liveness-"));
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.passes = thread;
        passes.scheduleWithFixedDelay(this::pass, every, every, TimeUnit.MILLISECONDS);
    }

    /** One look at the owners of runs in progress; ends the runs of those that are gone. */
    private void pass() {
        if (scheduler.isClosed()) {
            return;
        }
        if (!own.isHeld() || own.takes() != ownTakes) {
            // what this server saw while it held no signal of its own (its own session was cut) proves nothing
            judge.forget();
            ownTakes = own.takes();
            if (!own.isHeld()) {
                return;
            }
        }
        try {
            Instant now = engine.now();
            List<OwnerState> owners = liveness.owners(now).stream()
                    .filter(o -> !o.owner().equals(scheduler.instanceId()))
                    .toList();
            guard.answered(now);
            unavailableInARow = 0;
            List<OwnerState> gone = judge.pass(owners, now);
            if (gone.isEmpty() || !guard.mayReap(now)) {
                return;
            }
            for (OwnerState owner : gone) {
                endRunsOf(owner, now);
            }
        } catch (StorageUnavailableException e) {
            judge.forget();
            guard.unavailable();
            // one pass that finds the pool busy is no news; a store out of reach for several passes is
            if (++unavailableInARow == WARN_AFTER_UNAVAILABLE) {
                log.warn("the liveness check could not reach the store {} times in a row; it keeps trying", unavailableInARow);
            } else {
                log.debug("the liveness check could not reach the store; it will try again");
            }
        } catch (RuntimeException e) {
            judge.forget();
            log.error("the liveness check failed; it will try again", e);
        }
    }

    /** Moves the leases of a gone owner's runs to now, if it is still gone, and ends those runs here. */
    private void endRunsOf(OwnerState owner, Instant now) {
        List<RunId> expired = liveness.expireLeases(owner.owner(), owner.beat(), now);
        if (expired.isEmpty()) {
            return;
        }
        log.warn("server {} is gone (it holds no liveness signal and its beat stood still for {} ms): ending its {} runs",
                owner.owner(), grace.toMillis(), expired.size());
        Set<ThreadId> freed = new LinkedHashSet<>();
        moved.addAll(expired);
        try {
            for (RunId runId : expired) {
                if (scheduler.executesHere(runId)) {
                    continue;
                }
                Optional<Run> run = engine.store().runs().find(runId);
                if (run.isPresent() && run.get().status() == RunStatus.IN_PROGRESS
                        && reaper.reapTraced(run.get(), now, Reaper.BY_LIVENESS)) {
                    freed.add(run.get().threadId());
                }
            }
        } finally {
            moved.removeAll(expired);
        }
        for (ThreadId threadId : freed) {
            scheduler.dispatch(threadId);
        }
    }

    /** Whether a pass moved the run's lease (its server was seen gone) and is ending it. */
    boolean movedLease(RunId runId) {
        return moved.contains(runId);
    }

    /** Stops the passes and gives this server's signal up (once its runs stopped, so that no other server ends them first). */
    @Override
    public void close() {
        passes.shutdownNow();
        own.close();
    }
}
