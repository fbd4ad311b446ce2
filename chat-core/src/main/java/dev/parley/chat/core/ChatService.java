package dev.parley.chat.core;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.AgentInfo;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.UpdateThreadCommand;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunObserver;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.port.out.Tool;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat engine: Parley's implementation of {@link ChatUseCases}, wired from the outbound ports
 * by {@link #builder()}.
 *
 * <pre>{@code
 * try (ChatService chat = ChatService.builder()
 *         .store(store).model(model)
 *         .agents(List.of(new Agent("helper", "Helper", null, "You are helpful.", null, List.of(), null)))
 *         .build()) {
 *     SendReceipt sent = chat.send(SendMessageCommand.text("alice", null, "Hello"));
 *     RunOutcome outcome = chat.await("alice", sent.run().id(), Duration.ofSeconds(30));
 *     String answer = outcome.responseText();
 * }
 * }</pre>
 *
 * <p>A send stores the user message and a run in one transaction and returns: on a thread with
 * nothing in progress the run is stored already started (held by this server under its lease, its
 * first step begun), otherwise queued; runs of one thread execute one at a time, oldest first, on
 * an executor (virtual threads when the runtime has them), independent of the caller and of any
 * subscriber. Each run publishes its events with
 * seq 1, 2, 3, ... on the {@link RunEventBus} and ends with exactly one of {@code done},
 * {@code error} or {@code cancelled}. The {@code token} events of each model turn belong to the
 * assistant message stored for that turn: a turn that asks for tools keeps its text on the message
 * that carries the tool calls, and the final turn's text is the message that {@code done} names.
 *
 * <p>A send that names an agent on an existing thread runs that agent for this run; the thread
 * keeps its own. Idempotency keys are scoped per user and per thread (or to sends that named no
 * thread), remembered for {@link #IDEMPOTENCY_WINDOW}; the request fingerprint covers the content,
 * the named agent and the busy policy.
 *
 * <p>Several services (servers) may share one store. Any of them serves any request: a run
 * executes on the server that started it, which holds it under a lease ({@link Builder#runLease})
 * that it renews while the run executes; a cancel sent to another server is written to the store,
 * and the executing server notices it from the store's {@link dev.parley.chat.port.out.RunSignals}
 * hint at once (or from its periodic check). Every server runs a reaper ({@link Builder#reaperInterval})
 * that ends the runs whose lease expired (their server stopped) as {@code failed} with code
 * {@code interrupted}, keeping their streamed text, and starts queued runs that no server started.
 * A run that ends while the store cannot be reached publishes its end at once and stays its
 * server's (leased, never reaped there) until that end is stored, with its partial text, once the
 * store answers again.
 *
 * <p>Thread-safe. {@link #close()} stops starting runs and cancels the runs executing here; runs
 * still queued stay queued in the store (another server sharing it starts them).
 */
public final class ChatService implements ChatUseCases, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChatService.class);

    /** How long an idempotency key is remembered. */
    public static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);
    /** Longest generated title, in code points. */
    public static final int TITLE_CODE_POINTS = 60;
    /** Default limit of a message's text, in code points. */
    public static final int DEFAULT_MAX_MESSAGE_CODE_POINTS = 32_000;
    /** Default lease of a run executing on a server, renewed every third of it. */
    public static final Duration DEFAULT_RUN_LEASE = Duration.ofSeconds(30);
    /** Default (and longest default) pause between two passes of the reaper. */
    public static final Duration DEFAULT_REAPER_INTERVAL = Duration.ofSeconds(5);
    /** Default bound of one model call. */
    public static final Duration DEFAULT_MODEL_TIMEOUT = Duration.ofMinutes(10);

    private static final int SEND_ATTEMPTS = 3;
    private static final int STATE_ATTEMPTS = 16;
    private static final long AWAIT_POLL_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long AWAIT_POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final Duration DISPATCH_RETRY_FIRST = Duration.ofMillis(200);
    private static final Duration DISPATCH_RETRY_MAX = Duration.ofSeconds(5);

    private final ChatStore store;
    private final RunEventBus bus;
    /** The bus this service built (none was given), closed with it; null otherwise. */
    private final RunEventBuses.Bus ownBus;
    private final ChatModel model;
    private final Clock clock;
    private final IdGenerator ids;
    private final Map<String, Agent> agents;
    private final List<String> agentOrder;
    private final String defaultAgentId;
    private final RequestValidator validator;
    private final Engine engine;
    private final ExecutorService runExecutor;
    private final boolean ownsRunExecutor;
    private final ExecutorService toolExecutor;
    private final ScheduledExecutorService watchdog;
    private final Duration cancelTimeout;
    private final String instanceId;
    private final Duration runLease;
    private final Duration reaperInterval;
    private final Reaper reaper;
    private final RunSignals.Registration runChanges;
    private final ConcurrentMap<RunId, RunExecution> executions = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private volatile boolean storeWasUnavailable;
    /** The reaper leaves expired leases alone until then (after the store was unavailable to it). */
    private volatile Instant reapNotBefore = Instant.MIN;

    private ChatService(Builder b, RunEventBuses.Bus ownBus) {
        this.store = Require.notNull(b.store, "store");
        this.ownBus = ownBus;
        this.bus = ObservedEventBus.wrap(ownBus != null ? ownBus : b.eventBus, b.observer);
        this.model = Require.notNull(b.model, "model");
        this.clock = MicrosecondClock.of(b.clock);
        this.ids = b.ids;
        Require.notEmpty(b.agents, "agents");
        Map<String, Agent> byId = new LinkedHashMap<>();
        for (Agent agent : b.agents) {
            Require.that(byId.put(agent.id(), agent) == null, "duplicate agent id " + agent.id());
        }
        this.agents = Map.copyOf(byId);
        this.defaultAgentId = b.defaultAgent == null ? b.agents.get(0).id() : b.defaultAgent;
        Require.that(byId.containsKey(defaultAgentId), "the default agent " + defaultAgentId + " is not among the agents");
        this.agentOrder = List.copyOf(byId.keySet());
        this.validator = new RequestValidator(b.maxMessageCodePoints);
        this.cancelTimeout = b.cancelTimeout;
        this.ownsRunExecutor = b.executor == null;
        this.runExecutor = b.executor == null ? Threads.runExecutor() : b.executor;
        this.toolExecutor = Threads.toolExecutor();
        this.instanceId = b.instanceId != null ? b.instanceId : "parley-" + UUID.randomUUID().toString().substring(0, 13);
        this.runLease = b.runLease;
        this.reaperInterval = b.reaperInterval != null ? b.reaperInterval
                : Duration.ofMillis(Math.max(100, Math.min(DEFAULT_REAPER_INTERVAL.toMillis(), runLease.toMillis() / 3)));
        // two threads: lease renewals never wait behind a long pass of the reaper; the timers of model calls
        // that ended in time leave the queue at once
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(2, Threads.platformFactory("parley-watchdog-"));
        timers.setRemoveOnCancelPolicy(true);
        this.watchdog = timers;
        this.engine = new Engine(store, bus, model, clock, ids, Map.copyOf(b.prices), toolExecutor, watchdog, b.modelTimeout,
                cancelTimeout);
        this.reaper = new Reaper(engine);
        if (!b.endedElsewhereCheck.isZero()) {
            long every = b.endedElsewhereCheck.toMillis();
            watchdog.scheduleWithFixedDelay(this::stopRunsEndedElsewhere, every, every, TimeUnit.MILLISECONDS);
        }
        long renewEvery = Math.max(1, runLease.toMillis() / 3);
        watchdog.scheduleWithFixedDelay(this::renewLeases, renewEvery, renewEvery, TimeUnit.MILLISECONDS);
        if (!reaperInterval.isZero()) {
            long reapEvery = reaperInterval.toMillis();
            // a first pass soon after start: runs a crash left behind, queued runs nobody started
            watchdog.scheduleWithFixedDelay(this::reapAndRecover, Math.min(reapEvery, 1000), reapEvery, TimeUnit.MILLISECONDS);
        }
        this.runChanges = store.signals().onRunChanged(this::runChangedSomewhere);
        log.info("chat service {} started: run lease {} ms, reaper every {} ms", instanceId, runLease.toMillis(),
                reaperInterval.toMillis());
    }

    /** A builder; {@code store}, {@code model} and {@code agents} are required. */
    public static Builder builder() {
        return new Builder();
    }

    // ---- threads -----------------------------------------------------------------------------

    @Override
    public ChatThread createThread(CreateThreadCommand command) {
        Require.notNull(command, "command");
        RequestValidator.Errors errors = new RequestValidator.Errors();
        RequestValidator.title(command.title(), errors);
        RequestValidator.metadata(command.metadata(), errors);
        errors.throwIfAny();
        Agent agent = agentOrDefault(command.agentId());
        ChatThread thread = ChatThread.create(ThreadId.next(ids), command.userId(), agent.id(), blankToNull(command.title()),
                command.metadata(), clock.instant());
        store.threads().insert(thread);
        log.debug("thread {} created for agent {}", thread.id(), agent.id());
        return thread;
    }

    @Override
    public Page<ChatThread> listThreads(String userId, String agentId, PageRequest page) {
        Require.notBlank(userId, "userId");
        return store.threads().list(userId, agentId, page == null ? PageRequest.firstPage() : page);
    }

    @Override
    public ChatThread getThread(String userId, ThreadId threadId) {
        return owned(userId, threadId);
    }

    @Override
    public ChatThread updateThread(UpdateThreadCommand command) {
        Require.notNull(command, "command");
        RequestValidator.Errors errors = new RequestValidator.Errors();
        command.title().ifPresent(t -> RequestValidator.title(t, errors));
        command.metadata().ifPresent(m -> RequestValidator.metadata(m, errors));
        errors.throwIfAny();
        ChatThread thread = owned(command.userId(), command.threadId());
        if (command.title().isEmpty() && command.metadata().isEmpty()) {
            return thread;
        }
        Instant now = clock.instant();
        ChatThread updated = thread.touched(now);
        if (command.title().isPresent()) {
            updated = updated.withTitle(blankToNull(command.title().get()), now);
        }
        if (command.metadata().isPresent()) {
            updated = updated.withMetadata(command.metadata().get(), now);
        }
        if (!store.threads().update(updated)) {
            throw NotFoundException.thread(command.threadId());
        }
        return updated;
    }

    @Override
    public void deleteThread(String userId, ThreadId threadId, boolean hard) {
        owned(userId, threadId);
        for (int attempt = 1; ; attempt++) {
            stopActiveRuns(threadId);
            // under the thread's lock, which a send takes too: no run starts between the check and the delete
            Boolean deleted = store.inTransaction(() -> {
                if (store.threads().lock(threadId).filter(t -> t.isOwnedBy(userId)).isEmpty()) {
                    return false;
                }
                if (!store.runs().active(threadId).isEmpty()) {
                    return null;
                }
                return hard ? store.threads().hardDelete(threadId) : store.threads().softDelete(threadId, clock.instant());
            });
            if (deleted == null) {
                // a send started a run after the runs were stopped: stop that one too
                if (attempt >= STATE_ATTEMPTS) {
                    throw ConflictException.runInProgress(threadId);
                }
                continue;
            }
            if (!deleted) {
                throw NotFoundException.thread(threadId);
            }
            log.debug("thread {} deleted ({})", threadId, hard ? "hard" : "soft");
            return;
        }
    }

    @Override
    public Page<Message> listMessages(String userId, ThreadId threadId, PageRequest page, SortOrder order) {
        owned(userId, threadId);
        return store.messages().page(threadId, page == null ? PageRequest.firstPage() : page, order == null ? SortOrder.ASC : order);
    }

    // ---- send --------------------------------------------------------------------------------

    @Override
    public SendReceipt send(SendMessageCommand command) {
        Require.notNull(command, "command");
        requireOpen();
        RequestValidator.Errors errors = new RequestValidator.Errors();
        validator.content(command.content(), errors);
        RequestValidator.metadata(command.metadata(), errors);
        RequestValidator.idempotencyKey(command.idempotencyKey(), errors);
        errors.throwIfAny();
        if (command.agentId() != null) {
            requireAgent(command.agentId());
        }
        if (command.threadId() != null && command.ifBusy() == BusyPolicy.INTERRUPT) {
            // the runs it stops must be the user's; otherwise the thread's lock in the send transaction checks
            owned(command.userId(), command.threadId());
        }
        String fingerprint = command.idempotencyKey() == null ? null : Fingerprints.of(command);
        String scope = command.threadId() == null ? "" : command.threadId().value();
        Sent sent = null;
        AtomicReference<RunExecution> starting = new AtomicReference<>();
        for (int attempt = 1; sent == null; attempt++) {
            if (fingerprint != null) {
                Optional<SendReceipt> replay = replay(command, scope, fingerprint, clock.instant());
                if (replay.isPresent()) {
                    return replay.get();
                }
            }
            if (command.threadId() != null && command.ifBusy() == BusyPolicy.INTERRUPT) {
                stopActiveRuns(command.threadId());
            }
            try {
                sent = store.inTransaction(() -> sendInTransaction(command, scope, fingerprint, starting));
            } catch (StillBusy e) {
                forget(starting);
                if (attempt >= SEND_ATTEMPTS) {
                    throw ConflictException.runInProgress(command.threadId());
                }
            } catch (ConflictException e) {
                forget(starting);
                if (fingerprint == null || !"duplicate".equals(e.code()) || attempt >= SEND_ATTEMPTS) {
                    throw e;
                }
                // a concurrent retry with the same key committed first: the next round replays it
            } catch (RuntimeException | Error e) {
                forget(starting);
                throw e;
            }
        }
        SendReceipt receipt = sent.receipt();
        if (receipt.replayed()) {
            return receipt;
        }
        RunExecution execution = starting.get();
        if (execution != null) {
            log.debug("run {} started on thread {}", receipt.run().id(), receipt.thread().id());
            submit(execution);
        } else {
            log.debug("run {} queued on thread {}", receipt.run().id(), receipt.thread().id());
            dispatch(receipt.thread().id());
        }
        return receipt;
    }

    /** What a send transaction stored. */
    private record Sent(SendReceipt receipt) {
    }

    /**
     * Forgets the execution a send transaction registered for the run it started, when that
     * transaction did not commit.
     */
    private void forget(AtomicReference<RunExecution> starting) {
        RunExecution execution = starting.getAndSet(null);
        if (execution != null) {
            abandon(execution);
        }
    }

    /**
     * The send transaction. A run it starts is registered here, as executing on this server, before
     * the transaction commits: from the moment the run is visible in progress, a cancel on this
     * server finds its execution (and stops it before it calls the model) instead of taking it for a
     * run executing elsewhere.
     */
    private Sent sendInTransaction(SendMessageCommand command, String scope, String fingerprint,
                                   AtomicReference<RunExecution> starting) {
        forget(starting); // an earlier attempt of this transaction rolled back
        Instant now = clock.instant();
        String userId = command.userId();
        ChatThread thread;
        if (command.threadId() == null) {
            if (fingerprint != null) {
                Optional<SendReceipt> replay = replay(command, scope, fingerprint, now);
                if (replay.isPresent()) {
                    return new Sent(replay.get());
                }
            }
            Agent agent = agentOrDefault(command.agentId());
            thread = ChatThread.create(ThreadId.next(ids), userId, agent.id(), null, null, now);
            store.threads().insert(thread);
        } else {
            thread = store.threads().lock(command.threadId()).filter(t -> t.isOwnedBy(userId))
                    .orElseThrow(() -> NotFoundException.thread(command.threadId()));
            if (fingerprint != null) {
                Optional<SendReceipt> replay = replay(command, scope, fingerprint, now);
                if (replay.isPresent()) {
                    return new Sent(replay.get());
                }
            }
        }
        Agent agent = requireAgent(command.agentId() != null ? command.agentId() : thread.agentId());
        // a new thread has no runs; an existing one is locked, so its active runs cannot change until this commits
        boolean idle = command.threadId() == null || store.runs().active(thread.id()).isEmpty();
        if (!idle) {
            switch (command.ifBusy()) {
                case REJECT -> throw ConflictException.runInProgress(thread.id());
                case INTERRUPT -> throw new StillBusy();
                case ENQUEUE -> { }
            }
        }
        Message userMessage = store.messages().append(new Message(MessageId.next(ids), thread.id(), null, 0, Role.USER,
                command.content(), MessageStatus.COMPLETED, List.of(), null, command.metadata(), now));
        Run run = Run.queued(RunId.next(ids), thread.id(), agent.id(), modelName(agent), userMessage.id(), now);
        if (idle) {
            // nothing to wait for: the run starts here with its first model turn, committed with the message,
            // so that no further write or read stands between this transaction and the model call
            run = run.started(now);
            store.runs().insertStarted(run, instanceId, now.plus(runLease));
            Step firstStep = Step.messageCreation(StepId.next(ids), run.id(), 1, now);
            store.runs().insertStep(firstStep);
            RunExecution execution = new RunExecution(engine, run, agent, userId, this::runEnded, userMessage, firstStep);
            executions.put(run.id(), execution);
            starting.set(execution);
        } else {
            store.runs().insert(run);
        }
        if (fingerprint != null) {
            store.idempotency().insert(new IdempotencyRecord(userId, scope, command.idempotencyKey(), fingerprint, thread.id(),
                    run.id(), now));
        }
        // appending the message moved the thread's updated_at; a thread without a title takes one from it
        ChatThread updated = thread.touched(now);
        if (updated.title() == null) {
            String title = Texts.title(userMessage.text(), TITLE_CODE_POINTS);
            if (title != null) {
                updated = updated.withTitle(title, now);
                store.threads().update(updated);
            }
        }
        return new Sent(new SendReceipt(updated, userMessage, run, false));
    }

    /** The earlier send with this key, or empty; the key with another request is {@code idempotency_key_reused}. */
    private Optional<SendReceipt> replay(SendMessageCommand command, String scope, String fingerprint, Instant now) {
        Optional<IdempotencyRecord> found = store.idempotency().find(command.userId(), scope, command.idempotencyKey());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        IdempotencyRecord record = found.get();
        Instant cutoff = now.minus(IDEMPOTENCY_WINDOW);
        if (record.createdAt().isBefore(cutoff)) {
            store.idempotency().deleteOlderThan(cutoff);
            return Optional.empty();
        }
        if (!record.requestHash().equals(fingerprint)) {
            throw new InvalidRequestException("idempotency_key_reused",
                    "The idempotency key was already used with a different request",
                    List.of(new FieldError("idempotency_key", "was already used with a different request")));
        }
        ChatThread thread = store.threads().find(record.threadId()).filter(t -> t.isOwnedBy(command.userId()))
                .orElseThrow(() -> NotFoundException.thread(record.threadId()));
        Run run = store.runs().find(record.runId()).orElseThrow(() -> NotFoundException.run(record.runId()));
        Message userMessage = store.messages().find(run.userMessageId())
                .orElseThrow(() -> new NotFoundException("message_not_found", "No message " + run.userMessageId()));
        log.debug("idempotent replay of run {} on thread {}", run.id(), thread.id());
        return Optional.of(new SendReceipt(thread, userMessage, run, true));
    }

    /** Rolls back a send with {@code if_busy: interrupt} that found a run started after the interrupt. */
    private static final class StillBusy extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StillBusy() {
            super(null, null, false, false);
        }
    }

    // ---- dispatch ----------------------------------------------------------------------------

    /**
     * Starts the thread's oldest queued run when none is in progress. Servers sharing the store
     * agree through the store's compare-and-set on the run's status.
     */
    private void dispatch(ThreadId threadId) {
        dispatch(threadId, 0);
    }

    private void dispatch(ThreadId threadId, int failures) {
        if (closed) {
            return;
        }
        try {
            for (int attempt = 0; attempt < STATE_ATTEMPTS && !closed; attempt++) {
                List<Run> active = store.runs().active(threadId);
                if (active.stream().anyMatch(r -> r.status() == RunStatus.IN_PROGRESS)) {
                    return;
                }
                Optional<Run> next = active.stream().filter(r -> r.status() == RunStatus.QUEUED).findFirst();
                if (next.isEmpty()) {
                    return;
                }
                Optional<ChatThread> thread = store.threads().find(threadId);
                if (thread.isEmpty()) {
                    cancelQueued(next.get());
                    continue;
                }
                Run started = next.get().started(clock.instant());
                RunExecution execution = new RunExecution(engine, started, agents.get(started.agentId()), thread.get().ownerId(),
                        this::runEnded);
                if (executions.putIfAbsent(started.id(), execution) != null) {
                    // another dispatcher here (a send racing the end of the run before) is starting this run
                    return;
                }
                boolean won;
                try {
                    won = store.runs().start(started, instanceId, clock.instant().plus(runLease));
                } catch (ConflictException e) {
                    abandon(execution);
                    if ("run_in_progress".equals(e.code())) {
                        return;
                    }
                    throw e;
                } catch (RuntimeException e) {
                    abandon(execution);
                    throw e;
                }
                if (!won) {
                    abandon(execution);
                    continue;
                }
                log.debug("run {} started on thread {}", started.id(), threadId);
                submit(execution);
                return;
            }
        } catch (StorageUnavailableException e) {
            log.warn("could not start the next run of thread {} (the store is unavailable); retrying", threadId);
            retryDispatch(threadId, failures);
        } catch (RuntimeException e) {
            log.error("could not start the next run of thread {}; retrying", threadId, e);
            retryDispatch(threadId, failures);
        }
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

    /**
     * Executes a run that this server started in the store (by a send or a dispatch). A start that
     * raced {@link #close()} ends its run as cancelled, like the runs that were executing when the
     * service closed: the execution is marked submitted before {@link #closed} is read, and close
     * sets {@link #closed} before it looks for submitted executions, so one of the two cancels it.
     */
    private void submit(RunExecution execution) {
        execution.markSubmitted();
        if (closed) {
            execution.cancel();
        }
        try {
            runExecutor.execute(execution::execute);
        } catch (RejectedExecutionException e) {
            log.warn("run {} could not be started: the executor refused it", execution.run().id());
            execution.forceCancel();
        }
    }

    /** Forgets an execution whose start lost its compare-and-set; whoever waits on it looks again. */
    private void abandon(RunExecution execution) {
        executions.remove(execution.run().id(), execution);
        execution.abandon();
    }

    private void runEnded(RunExecution execution) {
        Run run = execution.run();
        executions.remove(run.id(), execution);
        log.debug("run {} ended as {}", run.id(), run.status().wireName());
        if (!closed) {
            dispatch(run.threadId());
        }
    }

    // ---- cancel ------------------------------------------------------------------------------

    @Override
    public Run cancelActiveRun(String userId, ThreadId threadId) {
        owned(userId, threadId);
        List<Run> active = store.runs().active(threadId);
        Run target = active.stream().filter(r -> r.status() == RunStatus.IN_PROGRESS).findFirst()
                .orElseGet(() -> active.isEmpty() ? null : active.get(0));
        if (target == null) {
            throw ConflictException.noActiveRun("thread " + threadId);
        }
        return cancel(target.id(), target);
    }

    @Override
    public Run cancelRun(String userId, ThreadId threadId, RunId runId) {
        owned(userId, threadId);
        return cancel(runId, runOn(threadId, runId));
    }

    /**
     * Cancels the run and returns it once it is terminal: a queued run at once, a run executing
     * here when it has stored its partial answer and published {@code cancelled} (at most
     * {@code cancelTimeout}, then it is ended regardless). Ended already: {@code no_active_run}.
     */
    private Run cancel(RunId runId) {
        return cancel(runId, null);
    }

    /** See {@link #cancel(RunId)}; {@code known} is the run as just read, or null. */
    private Run cancel(RunId runId, Run known) {
        for (int attempt = 0; attempt < STATE_ATTEMPTS; attempt++) {
            Run run = attempt == 0 && known != null ? known : store.runs().find(runId).orElseThrow(() -> NotFoundException.run(runId));
            if (run.isTerminal()) {
                throw ConflictException.noActiveRun("run " + runId);
            }
            if (run.status() == RunStatus.QUEUED) {
                if (cancelQueued(run)) {
                    return store.runs().find(runId).orElse(run);
                }
                continue;
            }
            RunExecution execution = executions.get(runId);
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
            long lastSeq = bus.lastSeq(runId);
            Run cancelled = run.cancelled(clock.instant(), null, run.usage(), run.costUsd());
            if (store.runs().update(cancelled, RunStatus.IN_PROGRESS)) {
                awaitCancelledElsewhere(runId, lastSeq);
                return store.runs().find(runId).orElse(cancelled);
            }
        }
        throw ConflictException.noActiveRun("run " + runId);
    }

    /** Cancels a run that has not started; false when it is no longer queued. */
    private boolean cancelQueued(Run run) {
        Run cancelled = run.cancelled(clock.instant(), null, Usage.ZERO, null);
        if (!store.runs().update(cancelled, RunStatus.QUEUED)) {
            return false;
        }
        bus.publish(new RunEvent.Cancelled(run.id(), bus.lastSeq(run.id()) + 1, null));
        log.debug("queued run {} cancelled", run.id());
        return true;
    }

    private Run stopAndWait(RunExecution execution) {
        execution.cancel();
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
        try (RunSubscription events = bus.subscribe(runId, afterSeq)) {
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
            Optional<Instant> lease = store.runs().leaseExpiresAt(runId);
            if (lease.isPresent() && lease.get().isAfter(clock.instant())) {
                log.info("run {}: its server has not stopped it yet; it publishes the cancel when it does", runId);
                return;
            }
            bus.publish(new RunEvent.Cancelled(runId, bus.lastSeq(runId) + 1, null));
        } catch (RuntimeException e) {
            log.warn("run {}: could not publish its cancel", runId, e);
        }
    }

    /** Cancels every queued and in-progress run of the thread, waiting for each to end. */
    private void stopActiveRuns(ThreadId threadId) {
        for (Run run : store.runs().active(threadId)) {
            try {
                cancel(run.id());
            } catch (ConflictException e) {
                log.debug("run {} ended before it could be cancelled", run.id());
            }
        }
    }

    /** For watchdogs and disconnects: cancels without telling anyone that there was nothing to cancel. */
    private void cancelQuietly(RunId runId) {
        try {
            cancel(runId);
        } catch (ConflictException | NotFoundException e) {
            log.debug("run {} was not active any more", runId);
        } catch (RuntimeException e) {
            log.warn("run {} could not be cancelled", runId, e);
        }
    }

    /** Stops local runs whose status another server changed in the store (a cancel sent there). */
    private void stopRunsEndedElsewhere() {
        for (RunExecution execution : executions.values()) {
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
        Optional<Run> stored = store.runs().find(execution.run().id());
        if (stored.isPresent() && stored.get().isTerminal() && !execution.isTerminated()) {
            log.info("run {} was ended elsewhere as {}; stopping it", stored.get().id(), stored.get().status().wireName());
            if (!execution.stopEndedInStore(stored.get())) {
                return; // told before: its forced end is scheduled already
            }
            // the run's log has one writer, this server: a run that does not stop in time is ended here regardless
            try {
                watchdog.schedule(() -> {
                    if (!execution.isTerminated()) {
                        log.warn("run {} did not stop within {} ms; ending it", execution.run().id(), cancelTimeout.toMillis());
                        execution.forceCancel();
                    }
                }, cancelTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                log.debug("run {}: no forced end, the service is closed", execution.run().id());
            }
        }
    }

    /**
     * A hint from the store: if the run executes here, look at it now, off the hint's thread and off
     * the watchdog's (where a pass of the reaper or of the lease renewals may be waiting for the store):
     * a cancel sent to another server waits for this.
     */
    private void runChangedSomewhere(RunId runId) {
        RunExecution execution = executions.get(runId);
        if (execution == null || execution.isTerminated() || closed) {
            return;
        }
        try {
            toolExecutor.execute(() -> {
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
        for (RunExecution execution : executions.values()) {
            if (execution.isTerminated() && !execution.isStoringEnd()) {
                continue;
            }
            RunId runId = execution.run().id();
            try {
                if (!store.runs().renewLease(runId, instanceId, clock.instant().plus(runLease))) {
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
     * not renew them meanwhile either.
     */
    private void reapAndRecover() {
        if (closed) {
            return;
        }
        try {
            Instant now = clock.instant();
            if (storeWasUnavailable) {
                store.ping();
                storeWasUnavailable = false;
                // no server could renew its leases meanwhile: give the live ones a lease to do so and to store the
                // ends of their runs that ended during the outage, before taking their expired leases for death
                reapNotBefore = now.plus(runLease);
                log.info("the store answers again; the reaper ends expired runs again after {} ms", runLease.toMillis());
            }
            if (!now.isBefore(reapNotBefore)) {
                for (ThreadId threadId : reaper.reapExpired(now, executions::containsKey)) {
                    dispatch(threadId);
                }
            }
            for (ThreadId threadId : reaper.threadsWithWaitingRuns(now.minus(reaperInterval))) {
                dispatch(threadId);
            }
        } catch (StorageUnavailableException e) {
            if (!storeWasUnavailable) {
                storeWasUnavailable = true;
                log.warn("the reaper could not reach the store; it will try again");
            }
        } catch (RuntimeException e) {
            log.error("the reaper failed; it will try again", e);
        }
    }

    // ---- runs --------------------------------------------------------------------------------

    @Override
    public RunOutcome await(String userId, RunId runId, Duration timeout) throws InterruptedException {
        Require.notBlank(userId, "userId");
        Require.notNull(runId, "runId");
        Require.notNull(timeout, "timeout");
        // a run executing here for this user is waited for at once; any other is read (and its owner checked) first
        RunExecution local = executions.get(runId);
        Run run = null;
        if (local == null || !userId.equals(local.userId())) {
            run = store.runs().find(runId).orElseThrow(() -> NotFoundException.run(runId));
            if (store.threads().find(run.threadId()).filter(t -> t.isOwnedBy(userId)).isEmpty()) {
                throw NotFoundException.run(runId);
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = AWAIT_POLL_MIN_NANOS;
        boolean lookAgainFirst = true;
        while (run == null || !run.isTerminal()) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0 && run != null) {
                break;
            }
            RunExecution execution = run == null ? local : executions.get(runId);
            if (execution != null) {
                try {
                    execution.finished().get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    // read the store below either way
                }
                if (execution == local && userId.equals(local.userId())) {
                    // completed here for this user: what it stored is known without reading it back
                    Optional<RunOutcome> completed = local.completedOutcome();
                    if (completed.isPresent()) {
                        return completed.get();
                    }
                }
            } else if (lookAgainFirst) {
                // a run executing here may have ended between the read above and the look-up: read before polling
                lookAgainFirst = false;
            } else {
                TimeUnit.NANOSECONDS.sleep(Math.min(remaining, pause));
                pause = Math.min(pause * 2, AWAIT_POLL_MAX_NANOS);
            }
            run = store.runs().find(runId).orElseThrow(() -> NotFoundException.run(runId));
        }
        return outcome(run);
    }

    @Override
    public Page<Run> listRuns(String userId, ThreadId threadId, PageRequest page) {
        owned(userId, threadId);
        return store.runs().page(threadId, page == null ? PageRequest.firstPage() : page);
    }

    @Override
    public RunOutcome getRun(String userId, ThreadId threadId, RunId runId) {
        owned(userId, threadId);
        return outcome(runOn(threadId, runId));
    }

    @Override
    public RunSubscription subscribe(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect) {
        owned(userId, threadId);
        runOn(threadId, runId);
        if (afterSeq < 0) {
            throw InvalidRequestException.parameter("after_seq", "must not be negative");
        }
        RunSubscription subscription = bus.subscribe(runId, afterSeq);
        if (onDisconnect != DisconnectPolicy.CANCEL) {
            return subscription;
        }
        return new CancelOnEarlyClose(subscription, () -> {
            try {
                CompletableFuture.runAsync(() -> cancelQuietly(runId), toolExecutor);
            } catch (RejectedExecutionException e) {
                log.debug("run {} not cancelled on disconnect: the service is closed", runId);
            }
        });
    }

    private RunOutcome outcome(Run run) {
        Message message = run.assistantMessageId() == null ? null : store.messages().find(run.assistantMessageId()).orElse(null);
        return new RunOutcome(run, message, store.runs().steps(run.id()));
    }

    // ---- agents and health -------------------------------------------------------------------

    @Override
    public List<AgentInfo> agents() {
        List<AgentInfo> infos = new ArrayList<>(agentOrder.size());
        for (String id : agentOrder) {
            infos.add(info(agents.get(id)));
        }
        return infos;
    }

    @Override
    public AgentInfo agent(String agentId) {
        return info(requireAgent(agentId));
    }

    @Override
    public String defaultAgentId() {
        return defaultAgentId;
    }

    @Override
    public void checkReady() {
        store.ping();
    }

    /**
     * Stops starting runs, cancels the runs executing here (waiting for each at most the cancel
     * timeout) and releases the threads and the event bus this service created. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        runChanges.close();
        // an execution not yet submitted is cancelled by the thread that submits it (see submit)
        List<RunExecution> running = executions.values().stream().filter(RunExecution::isSubmitted).toList();
        // cancelled before the timers stop: a run never meets a stopped timer before it knows it is cancelled
        running.forEach(RunExecution::cancel);
        watchdog.shutdownNow();
        long deadline = System.nanoTime() + cancelTimeout.toNanos();
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
        toolExecutor.shutdown();
        if (ownBus != null) {
            ownBus.close();
        }
        log.debug("chat service closed");
    }

    // ---- helpers -----------------------------------------------------------------------------

    private ChatThread owned(String userId, ThreadId threadId) {
        Require.notBlank(userId, "userId");
        Require.notNull(threadId, "threadId");
        return store.threads().find(threadId).filter(t -> t.isOwnedBy(userId))
                .orElseThrow(() -> NotFoundException.thread(threadId));
    }

    private Run runOn(ThreadId threadId, RunId runId) {
        Require.notNull(runId, "runId");
        return store.runs().find(runId).filter(r -> r.threadId().equals(threadId))
                .orElseThrow(() -> NotFoundException.run(runId));
    }

    private Agent requireAgent(String agentId) {
        Agent agent = agentId == null ? null : agents.get(agentId);
        if (agent == null) {
            throw NotFoundException.agent(agentId);
        }
        return agent;
    }

    private Agent agentOrDefault(String agentId) {
        return requireAgent(agentId == null ? defaultAgentId : agentId);
    }

    private String modelName(Agent agent) {
        return agent.model() != null ? agent.model() : model.defaultModel();
    }

    private AgentInfo info(Agent agent) {
        return new AgentInfo(agent.id(), agent.name(), agent.description(), modelName(agent),
                agent.tools().stream().map(Tool::spec).toList());
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the chat service is closed");
        }
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    // ---- builder -----------------------------------------------------------------------------

    /**
     * Wires a {@link ChatService}. Required: {@link #store}, {@link #model} and at least one agent.
     * Not thread-safe; build once.
     */
    public static final class Builder {
        private ChatStore store;
        private RunEventBus eventBus;
        private ChatModel model;
        private List<Agent> agents = List.of();
        private String defaultAgent;
        private Map<String, ModelPrice> prices = Map.of();
        private Clock clock = Clock.systemUTC();
        private IdGenerator ids = IdGenerator.timeOrdered();
        private int maxMessageCodePoints = DEFAULT_MAX_MESSAGE_CODE_POINTS;
        private ExecutorService executor;
        private Duration cancelTimeout = Duration.ofSeconds(10);
        private Duration endedElsewhereCheck = Duration.ofSeconds(2);
        private String instanceId;
        private Duration runLease = DEFAULT_RUN_LEASE;
        private Duration reaperInterval;
        private Duration modelTimeout = DEFAULT_MODEL_TIMEOUT;
        private RunObserver observer = RunObserver.NONE;

        private Builder() {
        }

        public Builder store(ChatStore store) {
            this.store = Require.notNull(store, "store");
            return this;
        }

        /**
         * The bus runs publish their events on and readers follow. By default the service builds one
         * over the store's event log, woken by its {@link ChatStore#signals()} ({@link RunEventBuses#create(ChatStore)}),
         * and closes it on {@link ChatService#close()}; a bus given here is left open.
         */
        public Builder eventBus(RunEventBus eventBus) {
            this.eventBus = Require.notNull(eventBus, "eventBus");
            return this;
        }

        public Builder model(ChatModel model) {
            this.model = Require.notNull(model, "model");
            return this;
        }

        /** The agents, in the order {@link ChatService#agents()} lists them. */
        public Builder agents(List<Agent> agents) {
            this.agents = List.copyOf(agents);
            return this;
        }

        /** The agent used when a request names none; the first agent unless set. */
        public Builder defaultAgent(String agentId) {
            this.defaultAgent = Require.notBlank(agentId, "defaultAgent");
            return this;
        }

        /** Prices by model name; runs on a model without a price have a null cost. */
        public Builder prices(Map<String, ModelPrice> prices) {
            this.prices = Map.copyOf(prices);
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Require.notNull(clock, "clock");
            return this;
        }

        public Builder ids(IdGenerator ids) {
            this.ids = Require.notNull(ids, "ids");
            return this;
        }

        /** Longest message text, in Unicode code points (default 32,000). */
        public Builder maxMessageCodePoints(int max) {
            this.maxMessageCodePoints = Require.inRange(max, 1, Integer.MAX_VALUE, "maxMessageCodePoints");
            return this;
        }

        /**
         * Where runs execute (one task per run, blocking for the run's length). By default one
         * virtual thread per run when the runtime has them, else a bounded pool of platform
         * threads. An executor given here is not shut down by {@link ChatService#close()}. Tool calls
         * always run on the service's own threads.
         */
        public Builder executor(ExecutorService executor) {
            this.executor = Require.notNull(executor, "executor");
            return this;
        }

        /** How long a cancel waits for the run to stop before it ends the run regardless (default 10 s). */
        public Builder cancelTimeout(Duration timeout) {
            Require.that(timeout != null && !timeout.isNegative() && !timeout.isZero(), "cancelTimeout must be positive");
            this.cancelTimeout = timeout;
            return this;
        }

        /**
         * How often runs executing here look in the store for a cancel sent to another server that
         * shares it (default 2 s; zero turns the check off). With a store that gives hints
         * ({@link ChatStore#signals()}) the cancel is noticed at once and this check is the fallback.
         */
        public Builder endedElsewhereCheck(Duration interval) {
            Require.that(interval != null && !interval.isNegative(), "endedElsewhereCheck must not be negative");
            this.endedElsewhereCheck = interval;
            return this;
        }

        /**
         * The name of this server among those sharing the store: the owner of the runs it executes.
         * Unique per running service; by default {@code parley-} and a random part.
         */
        public Builder instanceId(String id) {
            Require.notBlank(id, "instanceId");
            Require.that(id.length() <= 200, "instanceId is at most 200 characters");
            this.instanceId = id;
            return this;
        }

        /**
         * How long a run executing here stays this server's without a renewal (default 30 s, at least
         * 100 ms); renewed every third of it. Once it expired (the server stopped), any server's reaper
         * ends the run as {@code failed} with code {@code interrupted}.
         */
        public Builder runLease(Duration lease) {
            Require.that(lease != null && lease.toMillis() >= 100, "runLease must be at least 100 ms");
            this.runLease = lease;
            return this;
        }

        /**
         * Pause between two passes of the reaper, which ends runs whose lease expired and starts queued
         * runs nobody started (default: a third of the run lease, at most 5 s; zero turns it off).
         */
        public Builder reaperInterval(Duration interval) {
            Require.that(interval != null && !interval.isNegative(), "reaperInterval must not be negative");
            Require.that(interval.isZero() || interval.toMillis() >= 10, "reaperInterval must be zero or at least 10 ms");
            this.reaperInterval = interval;
            return this;
        }

        /**
         * Longest one model call may take (default 10 min; zero for no bound). A call that takes longer
         * is cancelled and its run fails with code {@code model_timeout}, keeping the streamed text; a
         * model that ignores the cancel gets {@link #cancelTimeout} more before the run is ended anyway.
         */
        public Builder modelTimeout(Duration timeout) {
            Require.that(timeout != null && !timeout.isNegative(), "modelTimeout must not be negative");
            this.modelTimeout = timeout;
            return this;
        }

        /**
         * Told what the runs executing on this service do (start, first token, tool call ends, end
         * with status, duration and usage), e.g. to keep metrics; default {@link RunObserver#NONE}.
         */
        public Builder observer(RunObserver observer) {
            this.observer = Require.notNull(observer, "observer");
            return this;
        }

        public ChatService build() {
            RunEventBuses.Bus ownBus = eventBus == null ? RunEventBuses.create(Require.notNull(store, "store")) : null;
            try {
                return new ChatService(this, ownBus);
            } catch (RuntimeException | Error e) {
                if (ownBus != null) {
                    ownBus.close();
                }
                throw e;
            }
        }
    }
}
