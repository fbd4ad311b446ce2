package dev.parley.chat.core;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.in.AgentAdmin;
import dev.parley.chat.port.in.AgentSeed;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.AwaitedSend;
import dev.parley.chat.port.in.AgentInfo;
import dev.parley.chat.port.in.AgentPatch;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.ServerLoad;
import dev.parley.chat.port.in.Subscription;
import dev.parley.chat.port.in.UpdateThreadCommand;
import dev.parley.chat.port.in.UsageQuery;
import dev.parley.chat.port.in.UsageReport;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat engine, a facade over its rooms (threads, the conversation tree, sending, scheduling,
 * cancelling, leases, reading runs, agents): Parley's {@link ChatUseCases}, wired from the outbound ports by {@link #builder()}.
 *
 * <pre>{@code
 * try (ChatService chat = ChatService.builder()
 *         .store(store).model(model)
 *         .agents(List.of(Agent.builder("helper").instructions("You are helpful.").build()))
 *         .build()) {
 *     SendReceipt sent = chat.send(SendMessageCommand.newThread("alice", "Hello"));
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
 * <p>How several services share one store, and more a send promises: the package documentation.
 *
 * <p>Thread-safe. {@link #close()} stops starting runs and cancels the runs executing here; runs
 * still queued stay queued in the store (another server sharing it starts them).
 */
public final class ChatService implements ChatUseCases, AgentAdmin, AutoCloseable {
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
    /** Default time a soft-deleted thread stays restorable. */
    public static final Duration DEFAULT_TRASH_RETENTION = Duration.ofDays(30);
    /** Default pause between two purges of the trash. */
    public static final Duration DEFAULT_TRASH_PURGE_INTERVAL = Duration.ofHours(1);
    /** How often a state change that lost a race is tried again. */
    static final int STATE_ATTEMPTS = 16;

    private final ChatStore store;
    /** The bus this service built (none was given), closed with it; null otherwise. */
    private final RunEventBuses.Bus ownBus;
    private final Duration cancelTimeout;
    private final ExecutorService toolExecutor;
    private final ScheduledExecutorService watchdog;
    private final AgentRegistry agents;
    private final RunScheduler scheduler;
    private final Canceller canceller;
    private final ThreadDesk threads;
    private final Sender sender;
    private final RunDesk runs;
    private final LeaseKeeper leases;
    private final AgentDesk agentDesk;
    private final ApprovalDesk approvals;
    private final UsageDesk usage;
    private final TrashKeeper trash;
    private final TreeDesk tree;

    ChatService(ChatServiceBuilder b, RunEventBuses.Bus ownBus) {
        this.store = Require.notNull(b.store, "store");
        this.ownBus = ownBus;
        RunEventBus bus = ownBus != null ? ownBus : Require.notNull(b.eventBus, "eventBus");
        Require.notNull(b.model, "model");
        this.cancelTimeout = b.cancelTimeout;
        this.agents = new AgentRegistry(b.agents, b.defaultAgent, b.model, b.tools, b.toolSource, store.agents());
        this.toolExecutor = Threads.toolExecutor();
        // two threads: lease renewals never wait behind a long pass of the reaper; the timers of model calls
        // that ended in time leave the queue at once
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(2, Threads.platformFactory("parley-watchdog-"));
        timers.setRemoveOnCancelPolicy(true);
        this.watchdog = timers;
        Engine engine = new Engine(store, ObservedEventBus.wrap(bus, b.observer), b.model, MicrosecondClock.of(b.clock),
                b.ids, Map.copyOf(b.prices), toolExecutor, watchdog, b.modelTimeout, cancelTimeout, b.observer, SafeTracer.of(b.tracer));
        String instanceId = b.instanceId != null ? b.instanceId : "parley-" + UUID.randomUUID().toString().substring(0, 13);
        Duration reaperInterval = b.reaperInterval != null ? b.reaperInterval
                : Duration.ofMillis(Math.max(100, Math.min(DEFAULT_REAPER_INTERVAL.toMillis(), b.runLease.toMillis() / 3)));
        this.scheduler = new RunScheduler(engine, agents, instanceId, b.runLease,
                b.executor == null ? Threads.runExecutor() : b.executor, b.executor == null, new Admission(b.maxExecutingRuns));
        this.approvals = new ApprovalDesk(engine, scheduler);
        this.canceller = new Canceller(engine, scheduler, approvals, cancelTimeout);
        RequestValidator validator = new RequestValidator(b.maxMessageCodePoints);
        this.threads = new ThreadDesk(engine, agents, canceller, validator);
        this.usage = new UsageDesk(engine, b.budgets);
        this.sender = new Sender(engine, validator, agents, threads, canceller, scheduler, usage,
                b.maxActiveRunsPerUser);
        this.runs = new RunDesk(engine, threads, scheduler, canceller);
        this.agentDesk = new AgentDesk(engine, agents);
        this.tree = new TreeDesk(engine, threads, sender);
        this.leases = new LeaseKeeper(engine, scheduler, approvals, reaperInterval, b.endedElsewhereCheck, b.livenessGrace);
        LogRetention.start(engine, b.eventLogRetention);
        this.trash = new TrashKeeper(engine, b.trashRetention, b.trashPurgeInterval, instanceId, watchdog);
        scheduler.pollQueued(b.queuedRunsPoll);
        log.info("chat service {} started: run lease {} ms, reaper every {} ms, at most {} runs executing", instanceId,
                b.runLease.toMillis(), reaperInterval.toMillis(), b.maxExecutingRuns);
    }

    /** A builder; {@code store}, {@code model} and {@code agents} are required. */
    public static ChatServiceBuilder builder() {
        return new ChatServiceBuilder();
    }

    // ---- threads -----------------------------------------------------------------------------

    @Override public ChatThread createThread(CreateThreadCommand command) { return threads.create(command); }

    @Override public Page<ChatThread> listThreads(String userId, String agentId, PageRequest page) { return threads.list(userId, agentId, page); }

    @Override public ChatThread getThread(String userId, ThreadId threadId) { return threads.owned(userId, threadId); }

    @Override public ChatThread updateThread(UpdateThreadCommand command) { return threads.update(command); }

    @Override public void deleteThread(String userId, ThreadId threadId, boolean hard) { threads.delete(userId, threadId, hard); }

    @Override public Page<ChatThread> listDeletedThreads(String userId, PageRequest page) { return threads.listDeleted(userId, page); }

    @Override public ChatThread restoreThread(String userId, ThreadId threadId) { return threads.restore(userId, threadId); }

    @Override public UsageReport usage(Caller caller, UsageQuery query) { return usage.usage(caller, query); }

    @Override public Optional<ModelPrice> price(String model) { return usage.price(model); }

    /** Empties the trash of threads deleted longer than the retention ago, now (as the periodic purge does); how many went. */
    public int purgeTrash() { return trash.purge(); }

    @Override public Page<Message> listMessages(String userId, ThreadId threadId, PageRequest page, SortOrder order) { return threads.messages(userId, threadId, page, order); }

    // ---- the conversation tree: one line each, the rules live in TreeDesk ---------------------
    @Override public Message getMessage(String userId, ThreadId threadId, MessageId messageId) { return tree.get(userId, threadId, messageId); }
    @Override public Message updateMessage(String userId, ThreadId threadId, MessageId messageId, Map<String, String> metadata) { return tree.updateMetadata(userId, threadId, messageId, metadata); }
    @Override public Page<Message> listVersions(String userId, ThreadId threadId, MessageId messageId, PageRequest page) { return tree.versions(userId, threadId, messageId, page); }
    @Override public SendReceipt edit(EditMessageCommand command) { return tree.edit(command); }
    @Override public SendReceipt regenerate(RegenerateCommand command) { return tree.regenerate(command); }
    @Override public ChatThread activateMessage(String userId, ThreadId threadId, MessageId messageId) { return tree.activate(userId, threadId, messageId); }
    @Override public void deleteMessage(String userId, ThreadId threadId, MessageId messageId) { tree.delete(userId, threadId, messageId); }

    // ---- chat --------------------------------------------------------------------------------

    @Override
    public SendReceipt send(SendMessageCommand command) {
        return sender.send(command);
    }

    /** {@inheritDoc} A cancel still stops the run at once: the calling thread is interrupted inside the model call. */
    @Override public AwaitedSend sendAndAwait(SendMessageCommand c, Duration timeout, Consumer<SendReceipt> sent) throws InterruptedException {
        return runs.sendAndAwait(sender, c, timeout, sent);
    }

    @Override
    public Run cancelActiveRun(String userId, ThreadId threadId) {
        threads.owned(userId, threadId);
        return canceller.cancelActive(threadId);
    }

    @Override
    public Run cancelRun(String userId, ThreadId threadId, RunId runId) {
        threads.owned(userId, threadId);
        return canceller.cancel(runId, threads.runOn(threadId, runId));
    }

    // ---- runs --------------------------------------------------------------------------------

    @Override
    public RunOutcome await(String userId, RunId runId, Duration timeout) throws InterruptedException {
        return runs.await(userId, runId, timeout);
    }

    @Override
    public Page<Run> listRuns(String userId, ThreadId threadId, PageRequest page) {
        return runs.listRuns(userId, threadId, page);
    }

    @Override
    public RunOutcome getRun(String userId, ThreadId threadId, RunId runId) {
        return runs.getRun(userId, threadId, runId);
    }

    @Override
    public RunOutcome decide(ApprovalCommand command) {
        return runs.outcome(approvals.decide(command));
    }

    @Override public Subscription subscribe(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect, RunEventSink sink) { return runs.subscribe(userId, threadId, runId, afterSeq, onDisconnect, sink); }

    // ---- agents and health -------------------------------------------------------------------

    @Override public List<AgentInfo> agents() { return agents.infos(); }

    @Override public AgentInfo agent(String agentId) { return agents.info(agentId); }

    @Override public String defaultAgentId() { return agents.defaultAgentId(); }

    // ---- agents as data: one line each, the rules live in AgentDesk ---------------------------
    @Override public StoredAgent createAgent(Caller caller, AgentDefinition definition) { return agentDesk.create(caller, definition); }
    @Override public StoredAgent getAgent(Caller caller, String agentId) { return agentDesk.get(caller, agentId); }
    @Override public StoredAgent getAgentVersion(Caller caller, String agentId, int version) { return agentDesk.version(caller, agentId, version); }
    @Override public Page<StoredAgent> listAgentVersions(Caller caller, String agentId, PageRequest page) { return agentDesk.versions(caller, agentId, page); }
    @Override public Page<StoredAgent> listAgents(Caller caller, AgentStatus status, PageRequest page) { return agentDesk.list(caller, status, page); }
    @Override public StoredAgent updateAgent(Caller caller, String agentId, AgentPatch patch) { return agentDesk.update(caller, agentId, patch); }
    @Override public void archiveAgent(Caller caller, String agentId) { agentDesk.archive(caller, agentId); }
    @Override public StoredAgent seedAgent(AgentSeed seed) { return agentDesk.seed(seed); }
    @Override public List<ToolSpec> tools() { return agentDesk.tools(); }

    int executingHere() { return scheduler.executions().size(); } // a run waiting for approval executes nowhere

    @Override public void checkReady() { store.ping(); }

    /** The runs executing here, this server's limit, the runs queued in the store (one count query) and those deferred here. */
    @Override public ServerLoad load() { return scheduler.load(); }

    /**
     * Stops starting runs, cancels the runs executing here (waiting for each at most the cancel
     * timeout) and releases the threads and the event bus this service created. Idempotent. Once it returned,
     * no timer task (a reaper pass) is in the store, unless one outlasted another cancel timeout.
     */
    @Override
    public void close() {
        List<RunExecution> running = scheduler.closeAndCancel();
        if (running == null) {
            return;
        }
        trash.close();
        // the runs were cancelled before the timers stop: a run never meets a stopped timer before it knows it is cancelled
        watchdog.shutdownNow();
        scheduler.awaitStopped(running, cancelTimeout);
        Threads.awaitTermination(watchdog, cancelTimeout, "a timer task of the chat service");
        leases.close();
        toolExecutor.shutdown();
        if (ownBus != null) {
            ownBus.close();
        }
        log.debug("chat service closed");
    }
}
