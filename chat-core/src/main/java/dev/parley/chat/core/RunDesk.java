package dev.parley.chat.core;

import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.EventsExpiredException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.Subscription;
import dev.parley.chat.port.in.AwaitedSend;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reading runs: their pages, outcomes and event streams, and waiting for one to end (a run
 * executing here is waited for directly; one elsewhere, or queued, is read again when it starts or
 * ends here or the store hints that it ended, and after a bounded pause, the fallback for lost hints).
 */
final class RunDesk {
    private static final Logger log = LoggerFactory.getLogger(RunDesk.class);
    private static final long AWAIT_POLL_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long AWAIT_POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final Engine engine;
    private final ThreadDesk threads;
    private final RunScheduler scheduler;
    private final Canceller canceller;

    RunDesk(Engine engine, ThreadDesk threads, RunScheduler scheduler, Canceller canceller) {
        this.engine = engine;
        this.threads = threads;
        this.scheduler = scheduler;
        this.canceller = canceller;
    }

    RunOutcome await(String userId, RunId runId, Duration timeout) throws InterruptedException {
        Require.notBlank(userId, "userId");
        Require.notNull(runId, "runId");
        Require.notNull(timeout, "timeout");
        // a run executing here for this user is waited for at once; any other is read (and its owner checked) first
        RunExecution local = scheduler.execution(runId);
        Run run = null;
        if (local == null || !userId.equals(local.userId())) {
            run = engine.store().runs().find(runId).orElseThrow(() -> NotFoundException.run(runId));
            if (engine.store().threads().find(run.threadId()).filter(t -> t.isOwnedBy(userId)).isEmpty()) {
                throw NotFoundException.run(runId);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = AWAIT_POLL_MIN_NANOS;
        boolean lookAgainFirst = true;
        CompletableFuture<Void> change = null;
        try {
            while (run == null || !(run.isTerminal() || run.status() == RunStatus.REQUIRES_ACTION)) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0 && run != null) {
                    break;
                }
                RunExecution execution = run == null ? local : scheduler.execution(runId);
                if (execution != null) {
                    waitFor(execution.finished(), remaining);
                    if (execution == local && userId.equals(local.userId())) {
                        // completed here for this user: what it stored is known without reading it back
                        Optional<RunOutcome> completed = local.completedOutcome();
                        if (completed.isPresent()) {
                            return completed.get();
                        }
                    }
                } else if (lookAgainFirst) {
                    // a run executing here may have ended between the read above and the look-up: read before waiting
                    lookAgainFirst = false;
                } else {
                    // woken when the run starts or ends here, or the store hints that it ended; the pause is the fallback
                    waitFor(change, Math.min(remaining, pause));
                    pause = Math.min(pause * 2, AWAIT_POLL_MAX_NANOS);
                }
                scheduler.changes().forget(runId, change);
                change = scheduler.changes().next(runId);
                run = engine.store().runs().find(runId).orElseThrow(() -> NotFoundException.run(runId));
            }
        } finally {
            scheduler.changes().forget(runId, change);
        }
        return outcome(run);
    }

    /**
     * A send whose caller waits for its run: a run the send started here executes on the calling thread
     * (see {@link RunScheduler#executeHere}); what is left of the timeout then goes to {@link #await}.
     */
    AwaitedSend sendAndAwait(Sender sender, SendMessageCommand command, Duration timeout, Consumer<SendReceipt> sent)
            throws InterruptedException {
        Require.notNull(timeout, "timeout");
        Require.notNull(sent, "sent");
        long start = System.nanoTime();
        boolean callerExecutes = !timeout.isNegative() && !timeout.isZero();
        Sender.Accepted accepted = sender.send(command, Sender.Placement.APPEND, callerExecutes);
        SendReceipt receipt = accepted.receipt();
        RunExecution execution = accepted.toExecute();
        try {
            sent.accept(receipt);
        } catch (RuntimeException | Error e) {
            if (execution != null) {
                scheduler.submit(execution); // the run is stored: it runs on a run thread instead
            }
            throw e;
        }
        if (execution != null) {
            scheduler.executeHere(execution);
            Optional<RunOutcome> completed = execution.completedOutcome();
            if (completed.isPresent()) {
                return new AwaitedSend(receipt, completed.get());
            }
        }
        Duration left = timeout.minusNanos(System.nanoTime() - start);
        return new AwaitedSend(receipt, await(command.userId(), receipt.run().id(), left.isNegative() ? Duration.ZERO : left));
    }

    /** Waits up to {@code nanos} for {@code signal}, however it completes. */
    private static void waitFor(CompletableFuture<?> signal, long nanos) throws InterruptedException {
        if (signal == null) {
            TimeUnit.NANOSECONDS.sleep(Math.max(0, nanos));
            return;
        }
        try {
            signal.get(Math.max(0, nanos), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // the caller reads the store either way
        }
    }

    Page<Run> listRuns(String userId, ThreadId threadId, PageRequest page) {
        threads.owned(userId, threadId);
        return engine.store().runs().page(threadId, page == null ? PageRequest.firstPage() : page);
    }

    RunOutcome getRun(String userId, ThreadId threadId, RunId runId) {
        threads.owned(userId, threadId);
        return outcome(threads.runOn(threadId, runId));
    }

    Subscription subscribe(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect,
                           RunEventSink sink) {
        Require.notNull(sink, "sink");
        threads.owned(userId, threadId);
        Run run = threads.runOn(threadId, runId);
        if (afterSeq < 0) {
            throw InvalidRequestException.parameter("after_seq", "must not be negative");
        }
        if (run.isTerminal() && engine.store().events().expired(runId)) {
            throw new EventsExpiredException(runId);
        }
        if (onDisconnect != DisconnectPolicy.CANCEL) {
            return engine.bus().subscribe(runId, afterSeq, sink);
        }
        return new CancelOnEarlyEnd(sink, () -> {
            try {
                CompletableFuture.runAsync(() -> canceller.cancelQuietly(runId), engine.toolExecutor());
            } catch (RejectedExecutionException e) {
                log.debug("run {} not cancelled on disconnect: the service is closed", runId);
            }
        }).open(guarded -> engine.bus().subscribe(runId, afterSeq, guarded));
    }

    RunOutcome outcome(Run run) {
        Message message = run.assistantMessageId() == null ? null : engine.store().messages().find(run.assistantMessageId()).orElse(null);
        return new RunOutcome(run, message, engine.store().runs().steps(run.id()),
                engine.store().runs().instructions(run.id()).orElse(null));
    }
}
