package dev.parley.adapter.http;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.RunObserver;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.ServerLoad;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Parley's metrics on a Micrometer {@link MeterRegistry}: what runs do (as the chat service's
 * {@link RunObserver}) and what the HTTP API does (given to {@link ParleyHttp.Config.Builder#metrics}).
 *
 * <pre>{@code
 * PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
 * ParleyMetrics metrics = ParleyMetrics.of(registry);
 * ChatService chat = ChatService.builder()....observer(metrics).build();
 * ParleyHttp.Config config = ParleyHttp.config(chat, authenticator)
 *         .metrics(metrics)
 *         .metricsEndpoint(registry::scrape)   // GET /metrics in the Prometheus text format
 *         .build();
 * }</pre>
 *
 * <p>The meters (Prometheus names in brackets):
 * <ul>
 *   <li>{@code parley.runs.started} [{@code parley_runs_started_total}] by {@code agent}</li>
 *   <li>{@code parley.runs.ended} [{@code parley_runs_ended_total}] by {@code agent}, {@code status}
 *       ({@code completed}, {@code failed}, {@code cancelled}) and {@code error} (the failure's code, or {@code none})</li>
 *   <li>{@code parley.run.duration} [{@code parley_run_duration_seconds}] from start to end, by {@code agent} and {@code status}</li>
 *   <li>{@code parley.run.first.token} [{@code parley_run_first_token_seconds}] from start to the first answer token, by {@code agent}</li>
 *   <li>{@code parley.step.duration} [{@code parley_step_duration_seconds}] of tool call steps, by {@code type},
 *       {@code tool} and {@code status}</li>
 *   <li>{@code parley.tokens} [{@code parley_tokens_total}] of completed runs, by {@code agent} and {@code kind}
 *       ({@code input}, {@code output}, and {@code cached_input}: the part of the input read from the model's prompt cache)</li>
 *   <li>{@code parley.streams.active} [{@code parley_streams_active}] open run streams, by {@code transport}
 *       ({@code sse}, {@code websocket}); {@code parley.websocket.sessions} [{@code parley_websocket_sessions}] open sockets</li>
 *   <li>{@code parley.store.errors} [{@code parley_store_errors_total}] requests answered 503 because the store was
 *       unreachable, by {@code where} ({@code http}, {@code websocket}, {@code ready})</li>
 *   <li>{@code parley.runs.executing} [{@code parley_runs_executing}] runs executing on this server,
 *       {@code parley.runs.executing.max} [{@code parley_runs_executing_max}] the most it executes at once, and
 *       {@code parley.runs.queued} [{@code parley_runs_queued}] runs queued in the store for every server sharing it
 *       (read at most once a second)</li>
 *   <li>{@code parley.runs.deferred} [{@code parley_runs_deferred_total}] runs this server left queued because it had no room</li>
 *   <li>{@code parley.runs.reaped} [{@code parley_runs_reaped_total}] runs of stopped servers this server ended, by
 *       {@code by} ({@code liveness}: their server was seen gone; {@code lease}: their lease expired)</li>
 *   <li>{@code parley.limits.refused} [{@code parley_limits_refused_total}] requests refused by a per-user limit, by
 *       {@code limit} ({@code active_runs}, {@code streams})</li>
 *   <li>{@code http.server.requests} [{@code http_server_requests_seconds}] by {@code method}, {@code uri} (the route
 *       template), {@code status} and {@code outcome}; an SSE stream counts once it is opened (its events are written
 *       after its handler returns)</li>
 * </ul>
 * Latency timers publish histogram buckets from 5 ms to 10 min, so quantiles can be computed across servers.
 * Thread-safe.
 */
public final class ParleyMetrics implements RunObserver {
    private static final Duration[] BUCKETS = {
            Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
            Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(2), Duration.ofMinutes(5),
            Duration.ofMinutes(10)};

    private final MeterRegistry registry;
    private final AtomicInteger sseStreams = new AtomicInteger();
    private final AtomicInteger webSocketStreams = new AtomicInteger();
    private final AtomicInteger webSockets = new AtomicInteger();

    private ParleyMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("parley.streams.active", sseStreams, AtomicInteger::get).tag("transport", "sse")
                .description("Run event streams open over server-sent events").register(registry);
        Gauge.builder("parley.streams.active", webSocketStreams, AtomicInteger::get).tag("transport", "websocket")
                .description("Run event streams open over WebSockets").register(registry);
        Gauge.builder("parley.websocket.sessions", webSockets, AtomicInteger::get)
                .description("WebSocket connections open").register(registry);
    }

    /** Metrics on {@code registry}. */
    public static ParleyMetrics of(MeterRegistry registry) {
        return new ParleyMetrics(Objects.requireNonNull(registry, "registry"));
    }

    /** The registry the meters are on. */
    public MeterRegistry registry() {
        return registry;
    }

    // ---- runs ----------------------------------------------------------------------------------

    @Override
    public void runStarted(RunId runId, String agentId) {
        Counter.builder("parley.runs.started").description("Runs that began executing on this server")
                .tag("agent", agent(agentId)).register(registry).increment();
    }

    @Override
    public void firstToken(RunId runId, String agentId, Duration sinceStart) {
        timer("parley.run.first.token", "Time from a run's start to its first answer token")
                .tag("agent", agent(agentId)).register(registry).record(sinceStart);
    }

    @Override
    public void toolCallEnded(RunId runId, String agentId, String toolName, StepStatus status, Duration latency) {
        timer("parley.step.duration", "Latency of a run's steps")
                .tag("type", "tool_call").tag("tool", toolName == null ? "unknown" : toolName).tag("status", status.wireName())
                .register(registry).record(latency);
    }

    @Override
    public void runEnded(RunId runId, String agentId, RunStatus status, String errorCode, Duration duration, Usage usage) {
        String agent = agent(agentId);
        Counter.builder("parley.runs.ended").description("Runs that ended, by status and error code")
                .tag("agent", agent).tag("status", status.wireName()).tag("error", errorCode == null ? "none" : errorCode)
                .register(registry).increment();
        if (agentId != null) {
            timer("parley.run.duration", "Time from a run's start to its end")
                    .tag("agent", agent).tag("status", status.wireName()).register(registry).record(duration);
        }
        if (usage.inputTokens() > 0) {
            tokens(agent, "input").increment(usage.inputTokens());
        }
        if (usage.outputTokens() > 0) {
            tokens(agent, "output").increment(usage.outputTokens());
        }
        if (usage.cachedInputTokens() > 0) {
            tokens(agent, "cached_input").increment(usage.cachedInputTokens());
        }
    }

    @Override
    public void runCharged(Run ended) {
        String agent = agent(ended.agentId());
        String model = ended.model() == null ? "unknown" : ended.model();
        Counter.builder("parley.run.tokens").description("Tokens used by ended runs, by agent and model")
                .tag("agent", agent).tag("model", model).tag("kind", "input").register(registry)
                .increment(ended.usage().inputTokens());
        Counter.builder("parley.run.tokens").description("Tokens used by ended runs, by agent and model")
                .tag("agent", agent).tag("model", model).tag("kind", "output").register(registry)
                .increment(ended.usage().outputTokens());
        Counter.builder("parley.run.tokens").description("Tokens used by ended runs, by agent and model")
                .tag("agent", agent).tag("model", model).tag("kind", "cached_input").register(registry)
                .increment(ended.usage().cachedInputTokens());
        if (ended.costUsd() != null) {
            Counter.builder("parley.run.cost").baseUnit("usd").description("Cost of ended runs in US dollars, by agent and model")
                    .tag("agent", agent).tag("model", model).register(registry).increment(ended.costUsd().doubleValue());
        }
    }

    @Override
    public void runReaped(Run ended, String cause) {
        Counter.builder("parley.runs.reaped").description("Runs of stopped servers this server ended, by what told it")
                .tag("by", cause == null ? "unknown" : cause).register(registry).increment();
    }

    private Counter tokens(String agent, String kind) {
        return Counter.builder("parley.tokens").description("Tokens used by completed runs")
                .tag("agent", agent).tag("kind", kind).register(registry);
    }

    private static String agent(String agentId) {
        return agentId == null ? "unknown" : agentId;
    }

    private static Timer.Builder timer(String name, String description) {
        return Timer.builder(name).description(description).serviceLevelObjectives(BUCKETS)
                .minimumExpectedValue(BUCKETS[0]).maximumExpectedValue(BUCKETS[BUCKETS.length - 1]);
    }

    // ---- limits and admission ------------------------------------------------------------------

    private volatile ServerLoad lastLoad = ServerLoad.UNKNOWN;
    private volatile long lastLoadAt;

    private final java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Registers the gauges and counters of {@code chat}'s load and of the streams {@code streams} refused,
     * once: every driving adapter of the server built over the same configuration (the API, an
     * OpenAI-compatible facade through its gateway) shares the chat service and its stream limits.
     */
    void watch(ChatUseCases chat, StreamLimits streams) {
        if (!watching.compareAndSet(false, true)) {
            return;
        }
        Gauge.builder("parley.runs.executing", () -> load(chat).executing())
                .description("Runs executing on this server").register(registry);
        Gauge.builder("parley.runs.executing.max", () -> load(chat).maxExecuting())
                .description("The most runs this server executes at once").register(registry);
        Gauge.builder("parley.runs.queued", () -> load(chat).queued())
                .description("Runs queued in the store, for every server sharing it").register(registry);
        FunctionCounter.builder("parley.runs.deferred", chat, c -> load(c).admissionDeferred())
                .description("Runs this server left queued because it had no room").register(registry);
        FunctionCounter.builder("parley.limits.refused", chat, c -> load(c).refusedActiveRuns()).tag("limit", "active_runs")
                .description("Requests refused by a per-user limit").register(registry);
        FunctionCounter.builder("parley.limits.refused", streams, StreamLimits::refused).tag("limit", "streams")
                .description("Requests refused by a per-user limit").register(registry);
    }

    /** The chat's load, read again when the last reading is a second old. */
    private ServerLoad load(ChatUseCases chat) {
        long now = System.nanoTime();
        if (now - lastLoadAt > TimeUnit.SECONDS.toNanos(1) || lastLoad == ServerLoad.UNKNOWN) {
            lastLoad = chat.load();
            lastLoadAt = now;
        }
        return lastLoad;
    }

    // ---- HTTP ----------------------------------------------------------------------------------

    /** One HTTP request answered on {@code uri} (a route template). */
    void request(String method, String uri, int status, long nanos) {
        Timer.builder("http.server.requests").description("HTTP requests served by the Parley API")
                .tag("method", method).tag("uri", uri).tag("status", Integer.toString(status)).tag("outcome", outcome(status))
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    private static String outcome(int status) {
        if (status < 200) {
            return "INFORMATIONAL";
        }
        if (status < 300) {
            return "SUCCESS";
        }
        if (status < 400) {
            return "REDIRECTION";
        }
        return status < 500 ? "CLIENT_ERROR" : "SERVER_ERROR";
    }

    /** A request or frame was answered 503 because the store was unreachable. */
    void storeError(String where) {
        Counter.builder("parley.store.errors").description("Requests answered 503 because the store was unreachable")
                .tag("where", where).register(registry).increment();
    }

    void streamOpened(boolean webSocket) {
        (webSocket ? webSocketStreams : sseStreams).incrementAndGet();
    }

    void streamClosed(boolean webSocket) {
        (webSocket ? webSocketStreams : sseStreams).decrementAndGet();
    }

    void webSocketOpened() {
        webSockets.incrementAndGet();
    }

    void webSocketClosed() {
        webSockets.decrementAndGet();
    }
}
