package dev.parley.chat.core;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.LimitExceededException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.port.out.TraceSpan;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A send: validation, idempotent replays, the busy policy, and the one transaction that stores the
 * user message with its run (started here when the thread is idle, else queued).
 */
final class Sender {
    private static final Logger log = LoggerFactory.getLogger(Sender.class);
    private static final int SEND_ATTEMPTS = 3;
    /** What a client refused for its active runs is told to wait before it tries again. */
    static final Duration ACTIVE_RUNS_RETRY = Duration.ofSeconds(5);

    private final Engine engine;
    private final RequestValidator validator;
    private final AgentRegistry agents;
    private final ThreadDesk threads;
    private final Canceller canceller;
    private final RunScheduler scheduler;
    private final UsageDesk usage;
    /** The most active runs a user may have at once, 0 for no limit. */
    private final int maxActiveRuns;

    Sender(Engine engine, RequestValidator validator, AgentRegistry agents, ThreadDesk threads, Canceller canceller,
           RunScheduler scheduler, UsageDesk usage, int maxActiveRuns) {
        this.usage = usage;
        this.maxActiveRuns = maxActiveRuns;
        this.engine = engine;
        this.validator = validator;
        this.agents = agents;
        this.threads = threads;
        this.canceller = canceller;
        this.scheduler = scheduler;
    }

    SendReceipt send(SendMessageCommand command) {
        return send(command, Placement.APPEND);
    }

    /**
     * Where a send's user message goes in the thread's tree. Called in the send transaction, under the
     * thread's lock and after the busy check, with the new user message (already naming its run).
     */
    interface Placement {
        /** The plain send: the new message below the active leaf. */
        Placement APPEND = new Placement() {
            @Override
            public Message place(ChatThread thread, Message fresh, boolean queued) {
                return fresh;
            }

            @Override
            public String kind() {
                return "";
            }
        };

        /**
         * Stores {@code fresh} and returns it as stored, or returns the existing message the run answers,
         * or returns {@code fresh} itself to have it appended below the active leaf. {@code queued}: the
         * run does not start in this transaction (the thread is busy, or the servers have no room), so a
         * placement that changes branches leaves the active leaf alone: the run makes its branch active
         * when it starts ({@link QueuedStart}), and runs still writing to the active path keep it.
         */
        Message place(ChatThread thread, Message fresh, boolean queued);

        /** Tells this kind of send from the others in the idempotency fingerprint. */
        String kind();

        /** False when the send brings no content of its own (a regenerate). */
        default boolean hasContent() {
            return true;
        }
    }

    SendReceipt send(SendMessageCommand command, Placement placement) {
        return send(command, placement, false).receipt();
    }

    /**
     * What a send did: its receipt, and the execution of the run it started here when its caller
     * executes it ({@code callerExecutes}); null otherwise (submitted to the run executor, queued, or replayed).
     */
    record Accepted(SendReceipt receipt, RunExecution toExecute) {
    }

    /** A send; with {@code callerExecutes}, a run it starts here is left for the caller to execute (see {@link Accepted}). */
    Accepted send(SendMessageCommand command, Placement placement, boolean callerExecutes) {
        Require.notNull(command, "command");
        scheduler.requireOpen();
        RequestValidator.Errors errors = new RequestValidator.Errors();
        if (placement.hasContent()) {
            validator.content(command.content(), errors);
        }
        RequestValidator.metadata(command.metadata(), errors);
        RequestValidator.idempotencyKey(command.idempotencyKey(), errors);
        validator.seeds(command.history(), "history", errors);
        errors.throwIfAny();
        if (command.agentId() != null) {
            agents.require(command.agentId());
        }
        if (command.threadId() != null && command.ifBusy() == BusyPolicy.INTERRUPT) {
            // the runs it stops must be the user's; otherwise the thread's lock in the send transaction checks
            threads.owned(command.userId(), command.threadId());
        }
        String fingerprint = command.idempotencyKey() == null ? null : Fingerprints.of(command) + placement.kind();
        String scope = command.threadId() == null ? "" : command.threadId().value();
        Sent sent = null;
        AtomicReference<RunExecution> starting = new AtomicReference<>();
        RunOrigin origin = RunMdc.here(engine);
        for (int attempt = 1; sent == null; attempt++) {
            if (fingerprint != null) {
                Optional<SendReceipt> replay = replay(command, scope, fingerprint, engine.now());
                if (replay.isPresent()) {
                    return new Accepted(replay.get(), null);
                }
            }
            if (attempt == 1) {
                // a replay creates no run, so it is answered whatever the budget says
                usage.requireBudget(command.userId());
            }
            if (command.threadId() != null && command.ifBusy() == BusyPolicy.INTERRUPT) {
                canceller.stopActiveRuns(command.threadId());
            }
            TraceSpan transaction = engine.tracer().transaction("send", null);
            try {
                sent = engine.store().inTransaction(() -> sendInTransaction(command, placement, scope, fingerprint, starting, origin));
            } catch (StillBusy e) {
                forget(starting);
                if (attempt >= SEND_ATTEMPTS) {
                    throw ConflictException.runInProgress(command.threadId());
                }
            } catch (ConflictException e) {
                forget(starting);
                if (fingerprint == null || e.reason() != ConflictException.Reason.DUPLICATE || attempt >= SEND_ATTEMPTS) {
                    throw e;
                }
                // a concurrent retry with the same key committed first: the next round replays it
            } catch (RuntimeException | Error e) {
                forget(starting);
                transaction.failed(e instanceof ChatException c ? c.code() : "internal_error", null);
                throw e;
            } finally {
                SafeTracer.end(transaction);
            }
        }
        SendReceipt receipt = sent.receipt();
        if (receipt.replayed()) {
            return new Accepted(receipt, null);
        }
        RunExecution execution = starting.get();
        if (execution != null) {
            log.debug("run {} started on thread {}", receipt.run().id(), receipt.thread().id());
            if (callerExecutes) {
                return new Accepted(receipt, execution);
            }
            scheduler.submit(execution);
        } else if (sent.deferred()) {
            log.debug("run {} queued on thread {} until a server has room", receipt.run().id(), receipt.thread().id());
            scheduler.startWaitingSoon();
        } else {
            log.debug("run {} queued on thread {}", receipt.run().id(), receipt.thread().id());
            scheduler.dispatch(receipt.thread().id());
        }
        return new Accepted(receipt, null);
    }

    /** What a send transaction stored. */
    private record Sent(SendReceipt receipt, boolean deferred) {
        Sent(SendReceipt receipt) {
            this(receipt, false);
        }
    }

    /**
     * Refuses a new run of a user who has {@link #maxActiveRuns} active runs already, counted in the
     * store for every server sharing it; the count stays locked until the send transaction ends.
     */
    private void requireActiveRunRoom(String userId) {
        if (maxActiveRuns > 0 && engine.store().runs().lockActiveRunsOf(userId) >= maxActiveRuns) {
            log.debug("user {} has {} active runs, the most allowed", userId, maxActiveRuns);
            scheduler.admission().refusedActiveRun();
            throw LimitExceededException.activeRuns(maxActiveRuns, ACTIVE_RUNS_RETRY);
        }
    }

    /**
     * Forgets the execution a send transaction registered for the run it started, when that
     * transaction did not commit.
     */
    private void forget(AtomicReference<RunExecution> starting) {
        RunExecution execution = starting.getAndSet(null);
        if (execution != null) {
            scheduler.forget(execution);
        }
    }

    /**
     * The send transaction. A run it starts is registered here, as executing on this server, before
     * the transaction commits: from the moment the run is visible in progress, a cancel on this
     * server finds its execution (and stops it before it calls the model) instead of taking it for a
     * run executing elsewhere.
     */
    private Sent sendInTransaction(SendMessageCommand command, Placement placement, String scope, String fingerprint,
                                   AtomicReference<RunExecution> starting, RunOrigin origin) {
        forget(starting); // an earlier attempt of this transaction rolled back
        Instant now = engine.now();
        String userId = command.userId();
        ChatThread thread;
        String firstQuestion = null; // of the history a new thread starts with
        if (command.threadId() == null) {
            if (fingerprint != null) {
                Optional<SendReceipt> replay = replay(command, scope, fingerprint, now);
                if (replay.isPresent()) {
                    return new Sent(replay.get());
                }
            }
            AgentRegistry.RunAgent named = agents.requireActive(command.agentId() != null ? command.agentId() : agents.defaultAgentId(), true);
            thread = ChatThread.create(ThreadId.next(engine.ids()), userId, named.agent().id(), null, null, now);
            engine.store().threads().insert(thread);
            firstQuestion = ThreadDesk.appendSeeds(engine, thread.id(), command.history(), now);
        } else {
            thread = engine.store().threads().lock(command.threadId()).filter(t -> t.isOwnedBy(userId))
                    .orElseThrow(() -> NotFoundException.thread(command.threadId()));
            if (fingerprint != null) {
                Optional<SendReceipt> replay = replay(command, scope, fingerprint, now);
                if (replay.isPresent()) {
                    return new Sent(replay.get());
                }
            }
        }
        AgentRegistry.RunAgent runAgent = command.agentId() != null && !command.agentId().equals(thread.agentId())
                ? agents.requireActive(command.agentId(), true)
                : thread.agentVersion() != null ? agents.requireVersion(thread.agentId(), thread.agentVersion())
                : agents.requireLatest(thread.agentId(), true);
        // a new thread has no runs; an existing one is locked, so its active runs cannot change until this commits
        boolean idle = command.threadId() == null || engine.store().runs().active(thread.id()).isEmpty();
        if (!idle) {
            switch (command.ifBusy()) {
                case REJECT -> throw ConflictException.runInProgress(thread.id());
                case INTERRUPT -> throw new StillBusy();
                case ENQUEUE -> { }
            }
        }
        requireActiveRunRoom(userId);
        Admission admission = scheduler.admission();
        // runs left queued for lack of room go first: a new run waits behind them
        boolean admitted = idle && !admission.hasBacklog() && admission.tryTake();
        try {
            return store(command, placement, scope, fingerprint, starting, origin,
                    new Locked(now, thread, firstQuestion, runAgent, idle, admitted));
        } catch (RuntimeException | Error e) {
            if (admitted && starting.get() == null) {
                admission.release();
            }
            throw e;
        }
    }

    /**
     * What the send transaction decided before it stores anything of the send: the thread (locked,
     * or new with {@code firstQuestion} from its history), the agent, and whether the run starts now.
     */
    private record Locked(Instant now, ChatThread thread, String firstQuestion, AgentRegistry.RunAgent runAgent, boolean idle,
                          boolean admitted) {
    }

    /** The rest of the send transaction: the user message where the placement puts it, the run, the idempotency key. */
    private Sent store(SendMessageCommand command, Placement placement, String scope, String fingerprint,
                       AtomicReference<RunExecution> starting, RunOrigin origin, Locked locked) {
        String userId = command.userId();
        Instant now = locked.now();
        ChatThread thread = locked.thread();
        String firstQuestion = locked.firstQuestion();
        AgentRegistry.RunAgent runAgent = locked.runAgent();
        boolean idle = locked.idle();
        boolean admitted = locked.admitted();
        Agent agent = runAgent.agent();
        // a user message names the run it started
        RunId runId = RunId.next(engine.ids());
        Message fresh = Message.user(MessageId.next(engine.ids()), thread.id(), command.content(), now)
                .withMetadata(command.metadata()).inRun(runId);
        Message placed = placement.place(thread, fresh, !admitted);
        Message userMessage = placed == fresh ? engine.store().messages().append(fresh) : placed;
        RunInstructions used = agents.render(runAgent, thread, userId, command.variables(), now);
        if (command.instructions() != null) {
            used = new RunInstructions(used.agentVersion(),
                    used.instructions().isEmpty() ? command.instructions() : used.instructions() + "\n\n" + command.instructions());
        }
        // the run stores the settings it sends, so that a start or a resume elsewhere sends them too
        used = used.withSettings(runAgent.settings().overriddenBy(command.modelSettings())).continuing(command.continuedFrom())
                .withholdingApprovalTools(command.approvalToolsWithheld());
        Run run = Run.queued(runId, thread.id(), agent.id(), agents.modelName(agent), userMessage.id(), now)
                .withAgentVersion(used.agentVersion());
        if (admitted) {
            run = startNow(run, userId, userMessage, runAgent, used, now, starting, origin);
        } else {
            if (idle) {
                scheduler.admission().deferredOne();
            }
            engine.store().runs().insert(run, used, origin);
        }
        if (fingerprint != null) {
            engine.store().idempotency().insert(new IdempotencyRecord(userId, scope, command.idempotencyKey(), fingerprint, thread.id(),
                    run.id(), now));
        }
        // appending the message moved the thread's updated_at; a thread without a title takes one from it
        ChatThread updated = thread.touched(now);
        if (updated.title() == null) {
            String title = Texts.title(firstQuestion != null ? firstQuestion : userMessage.text(), ChatService.TITLE_CODE_POINTS);
            if (title != null) {
                updated = updated.withTitle(title, now);
                engine.store().threads().update(updated);
            }
        }
        return new Sent(new SendReceipt(updated, userMessage, run, false, used), idle && !admitted);
    }

    /**
     * Stores the run started here with its first model turn, committed with the message, so that no
     * further write or read stands between the send transaction and the model call; registers its execution.
     */
    private Run startNow(Run queued, String userId, Message userMessage, AgentRegistry.RunAgent runAgent, RunInstructions used,
                         Instant now, AtomicReference<RunExecution> starting, RunOrigin origin) {
        Run run = queued.started(now);
        Step firstStep = Step.messageCreation(StepId.next(engine.ids()), run.id(), 1, now);
        engine.store().runs().insertStarted(run, scheduler.instanceId(), now.plus(scheduler.runLease()), used, origin, firstStep);
        starting.set(scheduler.registerStarted(run, runAgent.forRun(used), userId, userMessage, firstStep,
                origin, used));
        return run;
    }

    /** The earlier send with this key, or empty; the key with another request is {@code idempotency_key_reused}. */
    private Optional<SendReceipt> replay(SendMessageCommand command, String scope, String fingerprint, Instant now) {
        Optional<IdempotencyRecord> found = engine.store().idempotency().find(command.userId(), scope, command.idempotencyKey());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        IdempotencyRecord record = found.get();
        Instant cutoff = now.minus(ChatService.IDEMPOTENCY_WINDOW);
        if (record.createdAt().isBefore(cutoff)) {
            engine.store().idempotency().deleteOlderThan(cutoff);
            return Optional.empty();
        }
        if (!record.requestHash().equals(fingerprint)) {
            throw new InvalidRequestException(InvalidRequestException.Reason.IDEMPOTENCY_KEY_REUSED,
                    "The idempotency key was already used with a different request",
                    List.of(new FieldError("idempotency_key", "was already used with a different request")));
        }
        ChatThread thread = engine.store().threads().find(record.threadId()).filter(t -> t.isOwnedBy(command.userId()))
                .orElseThrow(() -> NotFoundException.thread(record.threadId()));
        Run run = engine.store().runs().find(record.runId()).orElseThrow(() -> NotFoundException.run(record.runId()));
        Message userMessage = engine.store().messages().find(run.userMessageId())
                .orElseThrow(() -> new NotFoundException("message_not_found", "No message " + run.userMessageId()));
        log.debug("idempotent replay of run {} on thread {}", run.id(), thread.id());
        return Optional.of(new SendReceipt(thread, userMessage, run, true, engine.store().runs().instructions(run.id()).orElse(null)));
    }

    /** Rolls back a send with {@code if_busy: interrupt} that found a run started after the interrupt. */
    private static final class StillBusy extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StillBusy() {
            super(null, null, false, false);
        }
    }
}
