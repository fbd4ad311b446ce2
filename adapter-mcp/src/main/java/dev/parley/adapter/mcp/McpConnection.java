package dev.parley.adapter.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ToolContext;
import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.schema.jackson2.DefaultJsonSchemaValidator;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The connection to one MCP server: its SDK client and transport, the tools it offers, the calls in
 * flight, and reconnection with backoff when the server exits, breaks the connection or cannot be
 * reached. A call never waits for a lost server: it fails at once with the reason.
 */
final class McpConnection {
    private static final Logger log = LoggerFactory.getLogger(McpConnection.class);
    private static final AtomicLong TOKENS = new AtomicLong();

    /** Makes a transport to the server; {@code onEnd} is told when a stream transport's stream ends. */
    @FunctionalInterface
    interface TransportFactory {
        McpClientTransport open(McpServerConfig config, McpJsonMapper json, Consumer<String> onEnd) throws Exception;
    }

    /** One connected session: the client and the transport that carries it. */
    private record Session(McpAsyncClient client, TrackingTransport transport) {
    }

    /** A call in flight: its outcome, where its progress goes, the session it went out on. */
    private record Call(Session session, CompletableFuture<McpSchema.CallToolResult> outcome, Consumer<String> progress) {
    }

    private final McpServerConfig config;
    private final ObjectMapper mapper;
    private final McpJsonMapper json;
    private final TransportFactory transports;
    private final ScheduledExecutorService scheduler;
    private final Duration connectTimeout;
    private final Duration backoffMin;
    private final Duration backoffMax;
    private final Runnable onToolsChanged;
    /** Every tool the server ever listed, by its name there: the same object across refreshes and reconnects. */
    private final Map<String, McpTool> known = new ConcurrentHashMap<>();
    private final Map<Object, Call> calls = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private volatile Session session;
    private volatile List<McpTool> offered = List.of();
    private volatile String problem = "not connected yet";
    private int failures;
    private boolean reconnectScheduled;
    private boolean connecting;
    private boolean closed;

    McpConnection(McpServerConfig config, ObjectMapper mapper, McpJsonMapper json, TransportFactory transports,
                  ScheduledExecutorService scheduler, Duration connectTimeout, Duration backoffMin, Duration backoffMax,
                  Runnable onToolsChanged) {
        this.config = config;
        this.mapper = mapper;
        this.json = json;
        this.transports = transports;
        this.scheduler = scheduler;
        this.connectTimeout = connectTimeout;
        this.backoffMin = backoffMin;
        this.backoffMax = backoffMax;
        this.onToolsChanged = onToolsChanged;
    }

    McpServerConfig config() {
        return config;
    }

    boolean isConnected() {
        return session != null;
    }

    /** Why the server is not connected (null while it is). */
    String problem() {
        return session == null ? problem : null;
    }

    /** The tools the server offers now (none while it is not connected). */
    List<McpTool> tools() {
        return session == null ? List.of() : offered;
    }

    /**
     * Connects now, unless connected or connecting already; on failure, says why and tries again
     * later, with backoff. The lock is not held while connecting, so that closing never waits for it.
     */
    void connect() {
        synchronized (lock) {
            if (closed || session != null || connecting) {
                return;
            }
            connecting = true;
        }
        CompletableFuture<String> failedEarly = new CompletableFuture<>();
        try {
            Session opened = open(failedEarly);
            synchronized (lock) {
                connecting = false;
                // a session that ended while it was being set up is not taken (its end ran lost() before it was current)
                if (closed || failedEarly.isDone()) {
                    opened.client().close();
                    if (closed) {
                        return;
                    }
                    throw new IllegalStateException(failedEarly.getNow("closed"));
                }
                session = opened;
                failures = 0;
            }
            log.info("MCP server {}: connected, {} tools", config.name(), offered.size());
            onToolsChanged.run();
        } catch (Exception e) {
            String why = e instanceof TimeoutException ? "no answer within " + connectTimeout.toMillis() + " ms" : describe(e);
            synchronized (lock) {
                connecting = false;
                if (closed) {
                    return;
                }
                problem = "the MCP server '" + config.name() + "' could not be reached: " + why;
                failures++;
            }
            log.warn("MCP server {}: {}", config.name(), problem);
            scheduleReconnect();
        }
    }

    /** Opens a session; {@code failedEarly} completes with the reason when the transport fails or ends meanwhile. */
    private Session open(CompletableFuture<String> failedEarly) throws Exception {
        Session[] self = new Session[1];
        Consumer<String> ended = reason -> {
            failedEarly.complete(reason);
            lost(self[0], reason);
        };
        McpClientTransport raw = transports.open(config, json, ended);
        TrackingTransport transport = new TrackingTransport(raw, e -> {
            failedEarly.complete(describe(e));
            lost(self[0], "the connection to the MCP server '" + config.name() + "' failed: " + describe(e));
        });
        McpAsyncClient client = McpClient.async(transport)
                .clientInfo(new McpSchema.Implementation("parley", "1"))
                .requestTimeout(config.timeout().plus(Duration.ofSeconds(10)))
                .initializationTimeout(connectTimeout)
                .jsonSchemaValidator(new DefaultJsonSchemaValidator(mapper))
                .toolsChangeConsumer(list -> Mono.fromRunnable(() -> define(list)))
                .progressConsumer(p -> Mono.fromRunnable(() -> progress(p)))
                .build();
        Session opened = new Session(client, transport);
        self[0] = opened;
        try {
            await(client.initialize().toFuture(), failedEarly);
            List<McpSchema.Tool> listed = new ArrayList<>();
            String cursor = null;
            do {
                McpSchema.ListToolsResult page = await(client.listTools(cursor).toFuture(), failedEarly);
                if (page == null) {
                    break;
                }
                listed.addAll(page.tools());
                cursor = page.nextCursor();
            } while (cursor != null && !cursor.isEmpty());
            define(listed);
            return opened;
        } catch (Exception e) {
            client.close();
            throw e;
        }
    }

    /** What {@code step} gives, unless the connection fails first (then its reason) or the connect timeout passes. */
    private <T> T await(CompletableFuture<T> step, CompletableFuture<String> failedEarly) throws Exception {
        CompletableFuture.anyOf(step, failedEarly).get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        if (failedEarly.isDone() && !step.isDone()) {
            throw new IllegalStateException(failedEarly.get());
        }
        try {
            return step.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** The server's tools are now {@code listed}: known ones are redefined, new ones added, gone ones dropped. */
    private void define(List<McpSchema.Tool> listed) {
        Map<String, McpTool> now = new LinkedHashMap<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (McpSchema.Tool definition : listed) {
            if (now.containsKey(definition.name()) || !names.add(McpTool.parleyName(config.name(), definition.name()))) {
                log.warn("MCP server {}: two tools are both named {} in Parley; only the first is offered", config.name(),
                        McpTool.parleyName(config.name(), definition.name()));
                continue;
            }
            McpTool tool = known.computeIfAbsent(definition.name(), n -> new McpTool(this, definition));
            tool.define(definition);
            now.put(definition.name(), tool);
        }
        boolean changed = !List.copyOf(now.values()).equals(offered);
        offered = List.copyOf(now.values());
        if (changed && session != null) {
            log.info("MCP server {}: its tools changed, now {}", config.name(), offered.size());
            onToolsChanged.run();
        }
    }

    /** Calls {@code tool} for {@code context}, bounded by {@code timeout}; a cancel tells the server and returns at once. */
    String call(McpTool tool, ToolContext context, Duration timeout) throws Exception {
        Cancellation cancellation = context.cancellation();
        cancellation.throwIfCancelled();
        Session s = session;
        if (s == null) {
            throw new ToolException(problem + "; Parley reconnects in the background");
        }
        if (!offered.contains(tool)) {
            throw new ToolException("the MCP server '" + config.name() + "' no longer offers the tool '" + tool.mcpName() + "'");
        }
        Map<String, Object> arguments = arguments(context.arguments());
        String token = "parley-" + TOKENS.incrementAndGet();
        CompletableFuture<McpSchema.CallToolResult> outcome = new CompletableFuture<>();
        calls.put(token, new Call(s, outcome, context.progress()));
        Disposable request = null;
        try (Cancellation.Registration ignored = cancellation.onCancel(() -> {
            // the server is told first: once the outcome completes, the call forgets its request id
            s.transport().cancel(token, "cancelled by the client");
            outcome.completeExceptionally(new RunCancelledException());
        })) {
            if (session != s) {
                // the server was lost between the look-up and the registration
                throw new ToolException(problem + "; Parley reconnects in the background");
            }
            request = s.client().callTool(new McpSchema.CallToolRequest(tool.mcpName(), arguments, Map.of("progressToken", token)))
                    .subscribe(outcome::complete, outcome::completeExceptionally,
                            () -> outcome.completeExceptionally(new ToolException("the MCP server '" + config.name() + "' gave no result")));
            McpSchema.CallToolResult result = outcome.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return McpResults.text(result, mapper, config.name());
        } catch (TimeoutException e) {
            s.transport().cancel(token, "timed out after " + timeout.toMillis() + " ms");
            throw new ToolException("tool_timeout", "the MCP server '" + config.name() + "' did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            s.transport().cancel(token, "cancelled by the client");
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RunCancelledException cancelled) {
                throw cancelled;
            }
            if (cause instanceof ToolException known) {
                throw known;
            }
            if (cause instanceof McpError error) {
                throw new ToolException("the MCP server '" + config.name() + "' refused the call: " + describe(error));
            }
            lost(s, "the connection to the MCP server '" + config.name() + "' failed: " + describe(cause));
            throw new ToolException(problem);
        } finally {
            calls.remove(token);
            s.transport().forget(token);
            if (request != null) {
                request.dispose();
            }
        }
    }

    private Map<String, Object> arguments(String text) {
        if (text == null || text.isBlank()) {
            return Map.of();
        }
        try {
            Map<String, Object> parsed = mapper.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() { });
            return parsed == null ? Map.of() : parsed;
        } catch (JsonProcessingException e) {
            throw new ToolException("the arguments must be a JSON object");
        }
    }

    private void progress(McpSchema.ProgressNotification notification) {
        Call call = calls.get(notification.progressToken());
        if (call != null) {
            call.progress().accept(McpResults.progress(notification));
        }
    }

    /** The session {@code lost} is gone for {@code reason}: its calls fail now, and a reconnect is scheduled. */
    void lost(Session lostSession, String reason) {
        synchronized (lock) {
            if (lostSession == null || session != lostSession) {
                return;
            }
            session = null;
            problem = reason;
            failures++;
        }
        log.warn("MCP server {}: {}", config.name(), reason);
        ToolException failure = new ToolException(reason + (reason.contains("during") ? "" : ", during the call"));
        calls.values().removeIf(call -> {
            if (call.session() == lostSession) {
                call.outcome().completeExceptionally(failure);
                return true;
            }
            return false;
        });
        lostSession.client().close();
        onToolsChanged.run();
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        long delayMillis;
        synchronized (lock) {
            if (closed || reconnectScheduled) {
                return;
            }
            reconnectScheduled = true;
            delayMillis = backoff(failures, backoffMin, backoffMax).toMillis();
        }
        log.info("MCP server {}: reconnecting in {} ms", config.name(), delayMillis);
        scheduler.schedule(() -> {
            synchronized (lock) {
                reconnectScheduled = false;
            }
            connect();
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** {@code min} doubled for each failure after the first, at most {@code max}. */
    static Duration backoff(int failures, Duration min, Duration max) {
        int doublings = Math.max(0, Math.min(failures - 1, 20));
        Duration delay = min.multipliedBy(1L << doublings);
        return delay.compareTo(max) > 0 ? max : delay;
    }

    String schemaJson(Map<String, Object> schema) {
        if (schema == null || schema.isEmpty()) {
            return "{\"type\":\"object\",\"properties\":{}}";
        }
        try {
            return mapper.writeValueAsString(schema);
        } catch (JsonProcessingException e) {
            return "{\"type\":\"object\",\"properties\":{}}";
        }
    }

    void close() {
        Session s;
        synchronized (lock) {
            closed = true;
            s = session;
            session = null;
            problem = "the MCP client is closed";
        }
        calls.values().forEach(call -> call.outcome().completeExceptionally(new ToolException("the MCP client is closed")));
        calls.clear();
        if (s != null) {
            try {
                s.client().closeGracefully().block(Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                s.client().close();
            }
        }
    }

    static String describe(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof java.net.ConnectException) {
                return c.getMessage() == null || c.getMessage().isBlank() ? "connection refused" : c.getMessage();
            }
        }
        Throwable t = e;
        while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }
}
