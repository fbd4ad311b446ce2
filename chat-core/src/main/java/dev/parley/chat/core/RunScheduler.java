package dev.parley.chat.core;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.ServerLoad;
import dev.parley.chat.port.out.Agent;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which runs execute on this server: owns their executions, starts each thread's next run (servers
 * agreeing through the store's compare-and-set), hands runs to the run executor, and stops them on close.
 */
final class RunScheduler {
    private static final Logger log = LoggerFactory.getLogger(RunScheduler.class);
    private static final int STATE_ATTEMPTS = ChatService.STATE_ATTEMPTS;
    private static final Duration DISPATCH_RETRY_FIRST = Duration.ofMillis(200);
    private static final Duration DISPATCH_RETRY_MAX = Duration.ofSeconds(5);

    private final Engine engine;
    private final AgentRegistry agents;
    private final String instanceId;
    private final Duration runLease;
    private final ExecutorService runExecutor;
    private final boolean ownsRunExecutor;
    private final ConcurrentMap<RunId, RunExecution> executions = new ConcurrentHashMap<>();
    private final Admission admission;
    private final AtomicBoolean pumping = new AtomicBoolean();
    /** Threads whose runs ended on a waiting caller's thread or their canceller's, to look at for their next run (see {@link #dispatchSoon}). */
    private final Queue<ThreadId> toDispatch = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean dispatching = new AtomicBoolean();
    private volatile boolean pumpAgain;
    private volatile ScheduledFuture<?> poll;
    private volatile boolean closed;
    private final RunChanges changes;
    /** How the store keeps a send's instructions; null until the first send here learned it. */
    private volatile InstructionsKept instructionsKept;

    RunScheduler(Engine engine, AgentRegistry agents, String instanceId, Duration runLease, ExecutorService runExecutor,
                 boolean ownsRunExecutor, Admission admission) {
        this.admission = admission;
        this.engine = engine;
        this.agents = agents;
        this.instanceId = instanceId;
        this.runLease = runLease;
        this.runExecutor = runExecutor;
        this.ownsRunExecutor = ownsRunExecutor;
        this.changes = new RunChanges(engine.store().signals());
    }

    /** Wake-ups of callers waiting for runs that do not execute here. */
    RunChanges changes() {
        return changes;
    }

    Admission admission() {
        return admission;
    }

    /**
     * Looks for queued runs this server has room for every {@code interval} (zero: only when a run
     * ends here): runs that another server, or this one, left queued for lack of room.
     */
    void pollQueued(Duration interval) {
        if (interval.isZero()) {
            return;
        }
        poll = engine.timers().scheduleWithFixedDelay(() -> {
            if (!closed && admission.hasRoom()) {
                startWaitingSoon();
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** {@link #startWaiting()} on the run executor, so that the caller (a send answering its client) does not wait for it. */
    void startWaitingSoon() {
        try {
            runExecutor.execute(this::startWaiting);
        } catch (RejectedExecutionException e) {
            log.debug("no look for queued runs: the service is closed");
        }
    }

    /**
     * Starts queued runs, oldest first across threads (one per thread), while this server has room;
     * remembers whether runs are left waiting for a server with room. One pass at a time: a call
     * during a pass makes it look once more.
     */
    void startWaiting() {
        if (!pumping.compareAndSet(false, true)) {
            pumpAgain = true;
            return;
        }
        try {
            do {
                pumpAgain = false;
                if (closed || !admission.hasRoom()) {
                    return;
                }
                List<Run> startable = engine.store().runs().startable(Reaper.QUEUED_BATCH);
                for (Run run : startable) {
                    if (closed || !admission.hasRoom()) {
                        admission.backlog(true);
                        return;
                    }
                    dispatch(run.threadId());
                }
                admission.backlog(startable.size() >= Reaper.QUEUED_BATCH);
            } while (pumpAgain);
        } catch (StorageUnavailableException e) {
            log.debug("could not look for queued runs to start (the store is unavailable); looking again later");
        } catch (RuntimeException e) {
            log.warn("could not look for queued runs to start: {}", e.toString());
        } finally {
            pumping.set(false);
        }
    }

    ServerLoad load() {
        long queued;
        try {
            queued = engine.store().runs().count(RunStatus.QUEUED);
        } catch (RuntimeException e) {
            queued = -1;
        }
        return new ServerLoad(admission.executing(), admission.max(), queued, admission.deferred(), admission.refusedActiveRuns());
    }

    String instanceId() {
        return instanceId;
    }

    Duration runLease() {
        return runLease;
    }

    boolean isClosed() {
        return closed;
    }

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the chat service is closed");
        }
    }

    /** The run's execution on this server, or null. */
    RunExecution execution(RunId runId) {
        return executions.get(runId);
    }

    boolean executesHere(RunId runId) {
        return executions.containsKey(runId);
    }

    Collection<RunExecution> executions() {
        return executions.values();
    }

    /**
     * Registers the execution of a run that a send is starting in its transaction, before that
     * transaction commits: from the moment the run is visible in progress, a cancel on this server
     * finds it here. {@link #forget} it when the transaction does not commit, {@link #submit} it when it does.
     * The caller took the run's slot of {@link #admission()}; the execution gives it back when it ends or is forgotten.
     */
    RunExecution registerStarted(Run started, AgentRegistry.RunAgent agent, String userId, Message userMessage, Step firstStep,
                                 RunOrigin origin, RunInstructions recorded) {
        RunExecution execution = new RunExecution(engine, started, agent, userId, this::runEnded, userMessage, firstStep, origin)
                .withStoredInstructions(asStored(started.id(), recorded));
        executions.put(started.id(), execution);
        return execution;
    }

    /**
     * What the store holds for the instructions a send recorded in the transaction under way, learned from the
     * first such send (read back once): a store that keeps them as given, or keeps none, is not asked again
     * when its runs complete; null (read at the end) for any other store.
     */
    private Optional<RunInstructions> asStored(RunId runId, RunInstructions recorded) {
        InstructionsKept kept = instructionsKept;
        if (kept == null) {
            Optional<RunInstructions> stored = engine.store().runs().instructions(runId);
            instructionsKept = stored.isEmpty() ? InstructionsKept.NONE
                    : stored.get().equals(recorded) ? InstructionsKept.AS_GIVEN : InstructionsKept.OTHERWISE;
            return stored;
        }
        return switch (kept) {
            case AS_GIVEN -> Optional.of(recorded);
            case NONE -> Optional.empty();
            case OTHERWISE -> null;
        };
    }

    /** How the store keeps the instructions a send records with its run. */
    private enum InstructionsKept { AS_GIVEN, NONE, OTHERWISE }

    /** Forgets an execution whose start did not happen (it lost its compare-and-set, or its transaction rolled back). */
    void forget(RunExecution execution) {
        if (executions.remove(execution.run().id(), execution)) {
            admission.release();
        }
        execution.abandon();
    }

    /**
     * Executes a run that this server started in the store (by a send or a dispatch). A start that
     * raced {@link #close()} ends its run as cancelled, like the runs that were executing when the
     * service closed: the execution is marked submitted before {@link #closed} is read, and close
     * sets {@link #closed} before it looks for submitted executions, so one of the two cancels it.
     */
    void submit(RunExecution execution) {
        execution.markSubmitted();
        if (closed) {
            execution.cancel();
        }
        try {
            runExecutor.execute(() -> execution.execute(runExecutor));
        } catch (RejectedExecutionException e) {
            log.warn("run {} could not be started: the executor refused it", execution.run().id());
            execution.forceCancel();
        }
    }

    /**
     * Executes on the calling thread a run that this thread's send just started (see {@link #submit}), for
     * a caller that waits for it: to its end, or until it leaves for a run thread (see
     * {@link RunExecution#executeOnCallersThread}). Its end's look for the thread's next run is left to a run
     * thread, so that the caller has its answer without waiting for it.
     */
    void executeHere(RunExecution execution) {
        execution.markSubmitted();
        if (closed) {
            execution.cancel();
        }
        execution.executeOnCallersThread(runExecutor);
    }

    /**
     * Starts the thread's oldest queued run when none is in progress. Servers sharing the store
     * agree through the store's compare-and-set on the run's status.
     */
    void dispatch(ThreadId threadId) {
        dispatch(threadId, 0);
    }

    private void dispatch(ThreadId threadId, int failures) {
        if (closed) {
            return;
        }
        try {
            for (int attempt = 0; attempt < STATE_ATTEMPTS && !closed; attempt++) {
                List<Run> active = engine.store().runs().active(threadId);
                if (active.stream().anyMatch(r -> r.status().holdsThread())) {
                    return;
                }
                Optional<Run> next = active.stream().filter(r -> r.status() == RunStatus.QUEUED).findFirst();
                if (next.isEmpty()) {
                    return;
                }
                Optional<ChatThread> thread = engine.store().threads().find(threadId);
                if (thread.isEmpty()) {
                    cancelQueued(next.get());
                    continue;
                }
                if (start(next.get(), thread.get().ownerId())) {
                    return;
                }
            }
        } catch (StorageUnavailableException e) {
            log.warn("could not start the next run of thread {} (the store is unavailable); retrying", threadId);
            retryDispatch(threadId, failures);
        } catch (RuntimeException e) {
            log.error("could not start the next run of thread {}; retrying", threadId, e);
            retryDispatch(threadId, failures);
        }
    }

    /** Starts a queued run here; false when another server started or ended it first (look again). */
    private boolean start(Run queued, String ownerId) {
        if (!admission.tryTake()) {
            // no room here: the run stays queued for a server with room (this one too, once a run ends here)
            admission.backlog(true);
            log.debug("run {} stays queued: {} runs execute here, the most allowed", queued.id(), admission.max());
            return true;
        }
        Run started = queued.started(engine.now());
        Optional<RunInstructions> instructions = engine.store().runs().instructions(started.id());
        RunExecution execution = new RunExecution(engine, started, agents.forRun(started, instructions), ownerId, this::runEnded,
                engine.store().runs().origin(started.id())).withStoredInstructions(instructions);
        if (executions.putIfAbsent(started.id(), execution) != null) {
            // another dispatcher here (a send racing the end of the run before) is starting this run
            admission.release();
            return true;
        }
        boolean won;
        try {
            won = QueuedStart.start(engine.store(), started, instanceId, engine.now().plus(runLease));
        } catch (ConflictException e) {
            forget(execution);
            if (e.reason() == ConflictException.Reason.RUN_IN_PROGRESS) {
                return true;
            }
            throw e;
        } catch (RuntimeException e) {
            forget(execution);
            throw e;
        }
        if (!won) {
            forget(execution);
            return false;
        }
        log.debug("run {} started on thread {}", started.id(), started.threadId());
        submit(execution);
        changes.changed(started.id());
        return true;
    }

    /**
     * Executes here a run that a decision on this server resumed (in progress in the store, held by
     * this server): it finishes its decided tool calls, then goes on with its next model turn.
     */
    void resume(Run resumed) {
        String ownerId = engine.store().threads().find(resumed.threadId()).map(ChatThread::ownerId).orElse(null);
        RunOrigin stored = engine.store().runs().origin(resumed.id());
        String requestId = RunMdc.requestId();
        RunExecution execution = RunExecution.resumed(engine, resumed,
                ownerId == null ? null : agents.forRun(resumed, engine.store().runs().instructions(resumed.id())), ownerId,
                this::runEnded, new RunOrigin(requestId != null ? requestId : stored.requestId(), stored.traceContext()));
        admission.force();
        RunExecution before = executions.put(resumed.id(), execution);
        if (before != null) {
            admission.release();
        }
        submit(execution);
        changes.changed(resumed.id());
    }

    /**
     * Tries to start the thread's next run again after a failure (an exhausted pool, a store that
     * went away), backing off up to {@link #DISPATCH_RETRY_MAX}; otherwise its queued run would wait
     * for the next send or run end on the thread.
     */
    private void retryDispatch(ThreadId threadId, int failures) {
        if (closed) {
            return;
        }
        long delay = Math.min(DISPATCH_RETRY_MAX.toMillis(), DISPATCH_RETRY_FIRST.toMillis() << Math.min(failures, 10));
        try {
            CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS, runExecutor)
                    .execute(() -> dispatch(threadId, failures + 1));
        } catch (RejectedExecutionException e) {
            log.debug("thread {}: no retry, the service is closed", threadId);
        }
    }

    private void runEnded(RunExecution execution) {
        Run run = execution.run();
        if (executions.remove(run.id(), execution)) {
            admission.release();
        }
        log.debug("run {} ended as {}", run.id(), run.status().wireName());
        changes.changed(run.id());
        if (closed) {
            return;
        }
        if (!execution.runQueuedBehind() && !admission.hasBacklog()) {
            // its end found no run queued behind it, and a send that queues one later finds the thread idle
            return;
        }
        if (execution.onCallersThread() || execution.endedByCanceller()) {
            dispatchSoon(run.threadId());
            return;
        }
        dispatch(run.threadId());
        if (admission.hasBacklog()) {
            startWaiting();
        }
    }

    /**
     * {@link #dispatch} on a run thread, for runs that ended on the thread of a caller waiting for them or of their canceller: the
     * threads whose runs ended meanwhile are looked at in one pass, so a burst of ends wakes one run thread.
     */
    private void dispatchSoon(ThreadId threadId) {
        toDispatch.add(threadId);
        if (!dispatching.compareAndSet(false, true)) {
            return;
        }
        try {
            runExecutor.execute(this::dispatchEnded);
        } catch (RejectedExecutionException e) {
            dispatching.set(false);
            log.debug("thread {}: its next run is not looked for, the service is closed", threadId);
        }
    }

    private void dispatchEnded() {
        try {
            for (ThreadId threadId = toDispatch.poll(); threadId != null; threadId = toDispatch.poll()) {
                dispatch(threadId);
            }
            if (!closed && admission.hasBacklog()) {
                startWaiting();
            }
        } finally {
            dispatching.set(false);
        }
        // a thread added between the last poll and the flag's reset saw the flag up and left itself to this pass
        if (!toDispatch.isEmpty() && !closed && dispatching.compareAndSet(false, true)) {
            try {
                runExecutor.execute(this::dispatchEnded);
            } catch (RejectedExecutionException e) {
                dispatching.set(false);
            }
        }
    }

    /** Cancels a run that has not started; false when it is no longer queued. */
    boolean cancelQueued(Run run) {
        Run cancelled = run.cancelled(engine.now(), null, Usage.ZERO, null);
        if (!engine.store().runs().update(cancelled, RunStatus.QUEUED)) {
            return false;
        }
        engine.bus().publish(new RunEvent.Cancelled(run.id(), engine.bus().lastSeq(run.id()) + 1, null));
        log.debug("queued run {} cancelled", run.id());
        return true;
    }

    /**
     * Stops starting runs and cancels the submitted executions (an execution not submitted yet is
     * cancelled by the thread that submits it); returns them, or null when closed already.
     */
    List<RunExecution> closeAndCancel() {
        if (closed) {
            return null;
        }
        closed = true;
        changes.close();
        ScheduledFuture<?> polling = poll;
        if (polling != null) {
            polling.cancel(false);
        }
        List<RunExecution> running = executions.values().stream().filter(RunExecution::isSubmitted).toList();
        running.forEach(RunExecution::cancel);
        return running;
    }

    /** Waits for the cancelled executions, at most {@code timeout} in all, ending the late ones regardless. */
    void awaitStopped(List<RunExecution> running, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (RunExecution execution : running) {
            try {
                execution.finished().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                execution.forceCancel();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                execution.forceCancel();
            }
        }
        if (ownsRunExecutor) {
            runExecutor.shutdown();
        }
    }
}
