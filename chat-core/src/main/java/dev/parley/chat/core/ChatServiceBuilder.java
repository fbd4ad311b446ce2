package dev.parley.chat.core;

import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.Require;
import dev.parley.chat.port.in.AgentSeed;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunObserver;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.Tool;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;

/**
 * Wires a {@link ChatService}. Required: {@link #store}, {@link #model} and at least one agent.
 * Not thread-safe; build once.
 */
public final class ChatServiceBuilder {
    /** Default pause between two looks for queued runs a server with room could start. */
    public static final Duration DEFAULT_QUEUED_RUNS_POLL = Duration.ofMillis(500);
    /** Default of {@link #livenessGrace}. */
    public static final Duration DEFAULT_LIVENESS_GRACE = Duration.ofMillis(1500);

    ChatStore store;
    RunEventBus eventBus;
    ChatModel model;
    List<Agent> agents = List.of();
    List<Tool> tools = List.of();
    java.util.function.Supplier<? extends java.util.Collection<? extends Tool>> toolSource = List::of;
    String defaultAgent;
    Map<String, ModelPrice> prices = Map.of();
    Clock clock = Clock.systemUTC();
    IdGenerator ids = IdGenerator.timeOrdered();
    int maxMessageCodePoints = ChatService.DEFAULT_MAX_MESSAGE_CODE_POINTS;
    ExecutorService executor;
    Duration cancelTimeout = Duration.ofSeconds(10);
    Duration endedElsewhereCheck = Duration.ofSeconds(2);
    String instanceId;
    Duration runLease = ChatService.DEFAULT_RUN_LEASE;
    Duration reaperInterval;
    Duration livenessGrace = DEFAULT_LIVENESS_GRACE;
    Duration modelTimeout = ChatService.DEFAULT_MODEL_TIMEOUT;
    RunObserver observer = RunObserver.NONE;
    RunTracer tracer = RunTracer.NONE;
    Duration eventLogRetention;
    List<AgentSeed> seeds = List.of();
    Duration trashRetention = ChatService.DEFAULT_TRASH_RETENTION;
    Duration trashPurgeInterval = ChatService.DEFAULT_TRASH_PURGE_INTERVAL;
    Function<String, BigDecimal> budgets = user -> null;
    int maxActiveRunsPerUser;
    int maxExecutingRuns = defaultMaxExecutingRuns();
    Duration queuedRunsPoll = DEFAULT_QUEUED_RUNS_POLL;

    ChatServiceBuilder() {
    }

    public ChatServiceBuilder store(ChatStore store) {
        this.store = Require.notNull(store, "store");
        return this;
    }

    /**
     * The bus runs publish their events on and readers follow. By default the service builds one
     * over the store's event log, woken by its {@link ChatStore#signals()} ({@link RunEventBuses#create(ChatStore)}),
     * and closes it on {@link ChatService#close()}; a bus given here is left open.
     */
    public ChatServiceBuilder eventBus(RunEventBus eventBus) {
        this.eventBus = Require.notNull(eventBus, "eventBus");
        return this;
    }

    public ChatServiceBuilder model(ChatModel model) {
        this.model = Require.notNull(model, "model");
        return this;
    }

    /** The agents, in the order {@link ChatService#agents()} lists them. */
    public ChatServiceBuilder agents(List<Agent> agents) {
        this.agents = List.copyOf(agents);
        return this;
    }

    /**
     * The tool registry beyond the built-in agents' own tools (which join it by themselves): the tools
     * stored agents may name.
     */
    public ChatServiceBuilder tools(List<Tool> tools) {
        this.tools = List.copyOf(tools);
        return this;
    }

    /**
     * Tools whose set changes while the service runs, such as an MCP server's (a server that connects
     * late, or announces {@code tools/list_changed}): read again at every lookup, so stored agents may
     * name a tool from the moment the source offers it, and a run gets the source's current tool of
     * that name. {@link #tools} and the built-in agents' own tools come first on a name they share. The
     * supplier is called on the request's and the run's threads: keep it cheap and thread-safe.
     */
    public ChatServiceBuilder toolSource(java.util.function.Supplier<? extends java.util.Collection<? extends Tool>> source) {
        this.toolSource = Require.notNull(source, "toolSource");
        return this;
    }

    /** The agent used when a request names none; the first agent unless set. */
    public ChatServiceBuilder defaultAgent(String agentId) {
        this.defaultAgent = Require.notBlank(agentId, "defaultAgent");
        return this;
    }

    /** Prices by model name; runs on a model without a price have a null cost. */
    public ChatServiceBuilder prices(Map<String, ModelPrice> prices) {
        this.prices = Map.copyOf(prices);
        return this;
    }

    public ChatServiceBuilder clock(Clock clock) {
        this.clock = Require.notNull(clock, "clock");
        return this;
    }

    public ChatServiceBuilder ids(IdGenerator ids) {
        this.ids = Require.notNull(ids, "ids");
        return this;
    }

    /** Longest message text, in Unicode code points (default 32,000). */
    public ChatServiceBuilder maxMessageCodePoints(int max) {
        this.maxMessageCodePoints = Require.inRange(max, 1, Integer.MAX_VALUE, "maxMessageCodePoints");
        return this;
    }

    /**
     * Where runs execute (one task per run, blocking for the run's length; with an
     * {@link dev.parley.chat.port.out.AsyncChatModel}, one task per stretch of a run between the model's
     * answers, none while the model works). By default one virtual thread per task when the runtime has them,
     * else a bounded pool of platform threads. An executor given here is not shut down by
     * {@link ChatService#close()}. Tool calls always run on the service's own threads. A run started by
     * {@link ChatService#sendAndAwait} begins on the caller's thread and comes here only for its tools and
     * later turns.
     */
    public ChatServiceBuilder executor(ExecutorService executor) {
        this.executor = Require.notNull(executor, "executor");
        return this;
    }

    /**
     * How long a cancel waits for the run to stop before it ends the run regardless (default 10 s); a run
     * waiting in a model call is ended at once by the cancel, on its caller's thread.
     */
    public ChatServiceBuilder cancelTimeout(Duration timeout) {
        Require.that(timeout != null && !timeout.isNegative() && !timeout.isZero(), "cancelTimeout must be positive");
        this.cancelTimeout = timeout;
        return this;
    }

    /**
     * How often runs executing here look in the store for a cancel sent to another server that
     * shares it (default 2 s; zero turns the check off). With a store that gives hints
     * ({@link ChatStore#signals()}) the cancel is noticed at once and this check is the fallback.
     */
    public ChatServiceBuilder endedElsewhereCheck(Duration interval) {
        Require.that(interval != null && !interval.isNegative(), "endedElsewhereCheck must not be negative");
        this.endedElsewhereCheck = interval;
        return this;
    }

    /**
     * The name of this server among those sharing the store: the owner of the runs it executes.
     * Unique per running service; by default {@code parley-} and a random part.
     */
    public ChatServiceBuilder instanceId(String id) {
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
    public ChatServiceBuilder runLease(Duration lease) {
        Require.that(lease != null && lease.toMillis() >= 100, "runLease must be at least 100 ms");
        this.runLease = lease;
        return this;
    }

    /**
     * Pause between two passes of the reaper, which ends runs whose lease expired and starts queued
     * runs nobody started (default: a third of the run lease, at most 5 s; zero turns it off).
     */
    public ChatServiceBuilder reaperInterval(Duration interval) {
        Require.that(interval != null && !interval.isNegative(), "reaperInterval must not be negative");
        Require.that(interval.isZero() || interval.toMillis() >= 10, "reaperInterval must be zero or at least 10 ms");
        this.reaperInterval = interval;
        return this;
    }

    /**
     * How long a server sharing the store that holds no liveness signal must also not have beaten
     * before this server takes it for gone and ends its runs as {@code failed} with code
     * {@code interrupted}, without waiting for their leases (default 1.5 s; zero: leases only). Only on
     * a store that can tell ({@link dev.parley.chat.port.out.ServerLiveness}, such as PostgreSQL): each
     * server then holds a signal tied to a database session of its own, which the database gives up when
     * the server's process dies, and beats through its pool every sixth of this; a server that is only
     * slow still holds its signal, and one whose session was cut still beats, so neither is taken for
     * gone. Every sixth of this, the service looks at the owners of runs in progress.
     */
    public ChatServiceBuilder livenessGrace(Duration grace) {
        Require.that(grace != null && !grace.isNegative(), "livenessGrace must not be negative");
        Require.that(grace.isZero() || grace.toMillis() >= 100, "livenessGrace must be zero or at least 100 ms");
        this.livenessGrace = grace;
        return this;
    }

    /**
     * Longest one model call may take (default 10 min; zero for no bound). A call that takes longer
     * is cancelled and its run fails with code {@code model_timeout}, keeping the streamed text; a
     * model that ignores the cancel gets {@link #cancelTimeout} more before the run is ended anyway.
     */
    public ChatServiceBuilder modelTimeout(Duration timeout) {
        Require.that(timeout != null && !timeout.isNegative(), "modelTimeout must not be negative");
        this.modelTimeout = timeout;
        return this;
    }

    /**
     * Told what the runs executing on this service do (start, first token, tool call ends, end
     * with status, duration and usage), e.g. to keep metrics; default {@link RunObserver#NONE}.
     */
    public ChatServiceBuilder observer(RunObserver observer) {
        this.observer = Require.notNull(observer, "observer");
        return this;
    }

    /**
     * Traces the service's work as spans (each run, its model and tool calls, the send and end
     * transactions), e.g. with OpenTelemetry; default {@link RunTracer#NONE}. The request id in the
     * sending thread's SLF4J MDC ({@code request_id}) and the tracer's current context are kept with
     * each run, so that the run's log lines and spans, on whichever server, name the request that sent it.
     */
    public ChatServiceBuilder tracer(RunTracer tracer) {
        this.tracer = Require.notNull(tracer, "tracer");
        return this;
    }

    /**
     * Stored agents the application brings with it, applied by {@link #build()} through
     * {@link ChatService#seedAgent}: created when missing, given a new version when changed, left
     * alone when the same. A seed the store refuses fails the build.
     */
    public ChatServiceBuilder seedAgents(List<AgentSeed> seeds) {
        this.seeds = List.copyOf(seeds);
        return this;
    }

    /**
     * How long a soft-deleted thread stays in the trash (restorable) before it is removed for good
     * (default 30 days; zero keeps it forever).
     */
    public ChatServiceBuilder trashRetention(Duration retention) {
        Require.that(retention != null && !retention.isNegative(), "trashRetention must not be negative");
        this.trashRetention = retention;
        return this;
    }

    /**
     * How long the event logs of ended runs are kept (null or zero, the default: forever). Older logs
     * are removed in the background; their runs, steps and messages stay, and {@code /events} of such
     * a run answers {@code events_expired}.
     */
    public ChatServiceBuilder eventLogRetention(Duration retention) {
        Require.that(retention == null || !retention.isNegative(), "the event log retention must not be negative");
        this.eventLogRetention = retention;
        return this;
    }

    /**
     * How often the trash is purged (default 1 h; zero: never on its own). Among servers sharing a
     * store one at a time does it, holding the store's job lease for this long at most per pass.
     */
    public ChatServiceBuilder trashPurgeInterval(Duration interval) {
        Require.that(interval != null && !interval.isNegative(), "trashPurgeInterval must not be negative");
        Require.that(interval.isZero() || interval.toMillis() >= 10, "trashPurgeInterval must be zero or at least 10 ms");
        this.trashPurgeInterval = interval;
        return this;
    }

    /**
     * The same monthly budget (US dollars per calendar month, UTC) for every user: once a user's
     * month-to-date cost reaches it, their sends are refused with {@code budget_exceeded}; runs already
     * going finish. Null for none (the default).
     */
    public ChatServiceBuilder monthlyBudgetUsd(BigDecimal usd) {
        Require.that(usd == null || usd.signum() >= 0, "monthlyBudgetUsd must not be negative");
        this.budgets = user -> usd;
        return this;
    }

    /** Each user's monthly budget in US dollars (null for none), asked at each send; see {@link #monthlyBudgetUsd}. */
    public ChatServiceBuilder monthlyBudgets(Function<String, BigDecimal> budgetOfUser) {
        this.budgets = Require.notNull(budgetOfUser, "budgetOfUser");
        return this;
    }

    /**
     * The most active runs ({@code queued}, {@code in_progress}, {@code requires_action}) one user may
     * have at once, counted in the store so that it holds across every server sharing it (default 0: no
     * limit). A send past it stores nothing and is refused with a
     * {@link dev.parley.chat.model.LimitExceededException} {@code too_many_active_runs}; an idempotent
     * replay of an earlier send is still answered.
     */
    public ChatServiceBuilder maxActiveRunsPerUser(int max) {
        this.maxActiveRunsPerUser = Require.inRange(max, 0, Integer.MAX_VALUE, "maxActiveRunsPerUser");
        return this;
    }

    /**
     * The most runs this server executes at once (default {@link #defaultMaxExecutingRuns()}).
     * A run beyond it is accepted and stays {@code queued} in the store; it starts, oldest first, on
     * whichever server sharing the store has room (this one when a run ends here). Callers waiting for
     * the run, and its streams, see only the wait. A run resumed after an approval always executes.
     * With a bounded {@link #executor} keep it below the executor's threads: runs admitted beyond them
     * wait in the executor, where other servers cannot take them.
     */
    public ChatServiceBuilder maxExecutingRuns(int max) {
        this.maxExecutingRuns = Require.inRange(max, 1, Integer.MAX_VALUE, "maxExecutingRuns");
        return this;
    }

    /**
     * How often a server with room looks in the store for queued runs it could start (default 500 ms;
     * zero: only when a run ends here): the runs that servers without room left queued.
     */
    public ChatServiceBuilder queuedRunsPoll(Duration interval) {
        Require.that(interval != null && !interval.isNegative(), "queuedRunsPoll must not be negative");
        Require.that(interval.isZero() || interval.toMillis() >= 10, "queuedRunsPoll must be zero or at least 10 ms");
        this.queuedRunsPoll = interval;
        return this;
    }

    /**
     * The default of {@link #maxExecutingRuns}: 64 per processor the runtime has; without virtual threads
     * (Java 17) at most 240, below the 256 platform threads of the default run executor, so that admitted
     * runs never wait in the executor's queue where other servers cannot take them.
     */
    public static int defaultMaxExecutingRuns() {
        int perProcessor = 64 * Runtime.getRuntime().availableProcessors();
        return Threads.virtualThreadFactory("parley-probe-").isPresent() ? perProcessor
                : Math.min(perProcessor, Threads.PLATFORM_RUN_THREADS - 16);
    }

    public ChatService build() {
        RunEventBuses.Bus ownBus = eventBus == null ? RunEventBuses.create(Require.notNull(store, "store")) : null;
        ChatService service = null;
        try {
            service = new ChatService(this, ownBus);
            for (AgentSeed seed : seeds) {
                service.seedAgent(seed);
            }
            return service;
        } catch (RuntimeException | Error e) {
            if (service != null) {
                service.close();
            } else if (ownBus != null) {
                ownBus.close();
            }
            throw e;
        }
    }
}
