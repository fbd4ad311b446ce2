package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.RunSubscription;
import io.javalin.http.Context;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code /api/v1/ws}: authentication by first frame or {@code Authorization} header, {@code chat},
 * {@code cancel}, {@code ping}; run events as frames with the SSE fields plus {@code request_id}.
 * Each chat is followed by its own thread reading its own subscription, so a slow socket only
 * holds up itself. A bad frame is answered with an {@code error} frame and the socket stays open.
 */
final class WsEndpoint {
    static final int CLOSE_UNAUTHORIZED = 4401;
    private static final Logger LOG = LoggerFactory.getLogger(WsEndpoint.class);
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_REQUEST_ID_LENGTH = 128;

    private final ParleyHttp.Config config;
    private final Api api;
    private final ScheduledExecutorService timer;
    private final ThreadFactory workers = Threads.factory("parley-ws-");
    private final Map<String, Socket> sockets = new ConcurrentHashMap<>();

    WsEndpoint(ParleyHttp.Config config, Api api) {
        this.config = config;
        this.api = api;
        this.timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "parley-ws-auth-timeout");
            t.setDaemon(true);
            return t;
        });
    }

    /** A run followed on a socket. */
    private record Followed(RunId runId, ThreadId threadId, String requestId, RunSubscription subscription) {}

    /** The state of one connection. */
    private static final class Socket {
        final Session session;
        final String sessionId = "ses_" + UUID.randomUUID().toString().replace("-", "");
        final ReentrantLock sendLock = new ReentrantLock();
        final Map<RunId, Followed> followed = new ConcurrentHashMap<>();
        volatile String userId;
        volatile RunId lastRun;
        volatile ScheduledFuture<?> authTimeout;

        Socket(Session session) {
            this.session = session;
        }
    }

    // ---- upgrade ----

    /** Refuses the upgrade (403 problem) when the browser's Origin is not allowed. */
    void beforeUpgrade(Context ctx) throws java.io.IOException {
        String origin = ctx.header("Origin");
        if (originAllowed(origin, ctx.header("Host"))) {
            return;
        }
        ApiProblem problem = new ApiProblem(403, "origin_not_allowed", "This origin may not open the WebSocket");
        ctx.skipRemainingHandlers();
        var res = ctx.res();
        res.setStatus(403);
        res.setContentType("application/problem+json");
        res.setHeader(Api.REQUEST_ID_HEADER, Api.requestId(ctx.header(Api.REQUEST_ID_HEADER)));
        res.getOutputStream().write(Json.write(problem.body()).getBytes(StandardCharsets.UTF_8));
        res.getOutputStream().flush();
    }

    boolean originAllowed(String origin, String host) {
        if (origin == null) {
            return true; // not a browser: browsers always send Origin on WebSocket upgrades
        }
        if (config.webSocketOrigins().contains("*") || config.webSocketOrigins().contains(origin)) {
            return true;
        }
        try {
            URI uri = URI.create(origin);
            if (uri.getHost() == null || host == null) {
                return false;
            }
            String originHost = uri.getPort() == -1 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
            String defaultPort = "https".equalsIgnoreCase(uri.getScheme()) ? ":443" : ":80";
            String requestHost = host.toLowerCase(Locale.ROOT);
            String candidate = originHost.toLowerCase(Locale.ROOT);
            return requestHost.equals(candidate) || requestHost.equals(candidate + defaultPort)
                    || (requestHost + defaultPort).equals(candidate);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    void configure(WsConfig ws) {
        ws.onConnect(this::onConnect);
        ws.onMessage(this::onMessage);
        ws.onClose(this::onClose);
        ws.onError(this::onError);
    }

    void shutdown() {
        timer.shutdownNow();
        sockets.values().forEach(this::release);
    }

    // ---- lifecycle ----

    private void onConnect(WsConnectContext ctx) {
        Socket socket = new Socket(ctx.session);
        sockets.put(ctx.sessionId(), socket);
        ctx.session.setMaxTextMessageSize(config.maxBodyBytes());
        ctx.session.setIdleTimeout(config.heartbeatInterval().multipliedBy(3));
        ctx.enableAutomaticPings(config.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
        String authorization = ctx.header("Authorization");
        if (authorization != null) {
            try {
                authenticated(socket, api.authenticate(authorization), null);
            } catch (ApiProblem e) {
                send(socket, error("unauthorized", e.getMessage(), null));
                socket.session.close(CLOSE_UNAUTHORIZED, "unauthorized", Callback.NOOP);
            }
            return;
        }
        socket.authTimeout = timer.schedule(() -> {
            if (socket.userId == null && socket.session.isOpen()) {
                socket.session.close(CLOSE_UNAUTHORIZED, "authentication timeout", Callback.NOOP);
            }
        }, config.webSocketAuthTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void onClose(WsCloseContext ctx) {
        Socket socket = sockets.remove(ctx.sessionId());
        if (socket != null) {
            release(socket);
        }
    }

    private void onError(WsErrorContext ctx) {
        LOG.debug("WebSocket error on {}: {}", ctx.sessionId(), ctx.error() == null ? "unknown" : ctx.error().toString());
    }

    private void release(Socket socket) {
        ScheduledFuture<?> timeout = socket.authTimeout;
        if (timeout != null) {
            timeout.cancel(false);
        }
        // followed runs go on: a WebSocket that goes away never cancels (the client cancels explicitly)
        socket.followed.values().forEach(f -> f.subscription().close());
    }

    private void authenticated(Socket socket, String userId, String requestId) {
        ScheduledFuture<?> timeout = socket.authTimeout;
        if (timeout != null) {
            timeout.cancel(false);
        }
        socket.userId = userId;
        ObjectNode frame = Json.object().put("type", "session_start").put("session_id", socket.sessionId);
        if (requestId != null) {
            frame.put("request_id", requestId);
        }
        send(socket, frame);
    }

    // ---- frames ----

    private void onMessage(WsMessageContext ctx) {
        Socket socket = sockets.get(ctx.sessionId());
        if (socket == null) {
            return;
        }
        String requestId = Api.requestId(null);
        MDC.put("request_id", requestId);
        try {
            handleFrame(socket, ctx.message());
        } catch (RuntimeException e) {
            ApiProblem problem = Errors.toProblem(e, requestId);
            send(socket, problemFrame(problem, null));
        } finally {
            MDC.remove("request_id");
        }
    }

    private void handleFrame(Socket socket, String text) {
        JsonNode frame;
        try {
            frame = Json.parse(text);
        } catch (Exception e) {
            send(socket, error("invalid_json", "Frames must be JSON objects", null));
            return;
        }
        if (frame == null || !frame.isObject()) {
            send(socket, error("invalid_json", "Frames must be JSON objects", null));
            return;
        }
        JsonNode requestIdNode = frame.get("request_id");
        String requestId = null;
        if (requestIdNode != null && !requestIdNode.isNull()) {
            if (!requestIdNode.isTextual() || requestIdNode.textValue().isEmpty()
                    || requestIdNode.textValue().length() > MAX_REQUEST_ID_LENGTH
                    || Requests.textProblem(requestIdNode.textValue()) != null) {
                send(socket, validation("request_id", "must be a string of 1 to " + MAX_REQUEST_ID_LENGTH + " characters", null));
                return;
            }
            requestId = requestIdNode.textValue();
        }
        JsonNode typeNode = frame.get("type");
        if (typeNode == null || !typeNode.isTextual()) {
            send(socket, validation("type", "is required", requestId));
            return;
        }
        String type = typeNode.textValue();
        if (socket.userId == null) {
            if (!type.equals("auth")) {
                send(socket, error("unauthorized", "Authenticate first with {\"type\":\"auth\",\"token\":\"...\"}", requestId));
                return;
            }
            JsonNode token = frame.get("token");
            if (token == null || !token.isTextual() || token.textValue().isEmpty()) {
                send(socket, validation("token", "is required", requestId));
                return;
            }
            Optional<String> user = config.authenticator().authenticate(token.textValue());
            if (user.isEmpty()) {
                send(socket, error("unauthorized", "The token is malformed, expired or not valid", requestId));
                socket.session.close(CLOSE_UNAUTHORIZED, "unauthorized", Callback.NOOP);
                return;
            }
            authenticated(socket, user.get(), requestId);
            return;
        }
        try {
            switch (type) {
                case "auth" -> send(socket, error("already_authenticated", "This socket is already authenticated", requestId));
                case "ping" -> {
                    ObjectNode pong = Json.object().put("type", "pong");
                    if (requestId != null) {
                        pong.put("request_id", requestId);
                    }
                    send(socket, pong);
                }
                case "pong" -> { }
                case "chat" -> {
                    api.rateLimit(socket.userId);
                    Requests.Chat chat = Requests.chat(frame, true, config.maxMessageChars());
                    String rid = requestId;
                    workers.newThread(() -> runChat(socket, chat, rid)).start();
                }
                case "cancel" -> {
                    api.rateLimit(socket.userId);
                    String rid = requestId;
                    String runId = optionalText(frame, "run_id");
                    String threadId = optionalText(frame, "thread_id");
                    workers.newThread(() -> cancel(socket, runId, threadId, rid)).start();
                }
                default -> send(socket, error("unknown_type", "Unknown frame type; expected auth, chat, cancel, ping or pong", requestId));
            }
        } catch (RuntimeException e) {
            send(socket, problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
        }
    }

    private static String optionalText(JsonNode frame, String name) {
        JsonNode node = frame.get(name);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw ApiProblem.field(name, "must be a string");
        }
        return node.textValue();
    }

    private void runChat(Socket socket, Requests.Chat chat, String requestId) {
        try {
            ThreadId threadId = null;
            if (chat.threadId() != null) {
                threadId = ThreadId.parse(chat.threadId())
                        .orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
            }
            SendReceipt receipt = config.chat().send(new SendMessageCommand(socket.userId, threadId, chat.agentId(),
                    chat.content(), BusyPolicy.INTERRUPT, null, chat.metadata()));
            RunId runId = receipt.run().id();
            RunSubscription subscription = config.chat().subscribe(socket.userId, receipt.thread().id(), runId, 0,
                    DisconnectPolicy.CONTINUE);
            Followed followed = new Followed(runId, receipt.thread().id(), requestId, subscription);
            socket.followed.put(runId, followed);
            socket.lastRun = runId;
            if (!socket.session.isOpen()) {
                subscription.close();
            }
            pump(socket, followed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            send(socket, problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
        }
    }

    private void pump(Socket socket, Followed followed) throws InterruptedException {
        try (RunSubscription subscription = followed.subscription()) {
            while (socket.session.isOpen()) {
                Optional<RunEvent> next = subscription.next(config.heartbeatInterval());
                if (next.isPresent()) {
                    ObjectNode frame = Wire.event(next.get());
                    if (followed.requestId() != null) {
                        frame.put("request_id", followed.requestId());
                    }
                    if (!send(socket, frame) || next.get().isTerminal()) {
                        return;
                    }
                } else if (subscription.isFinished()) {
                    return;
                } else {
                    ObjectNode heartbeat = Wire.heartbeat();
                    if (followed.requestId() != null) {
                        heartbeat.put("request_id", followed.requestId());
                    }
                    if (!send(socket, heartbeat)) {
                        return;
                    }
                }
            }
        } finally {
            socket.followed.remove(followed.runId());
        }
    }

    private void cancel(Socket socket, String rawRunId, String rawThreadId, String requestId) {
        try {
            Followed target;
            if (rawRunId == null) {
                RunId last = socket.lastRun;
                target = last == null ? null : socket.followed.get(last);
                if (target == null) {
                    throw new ApiProblem(409, "no_active_run", "This socket has no active run");
                }
                config.chat().cancelRun(socket.userId, target.threadId(), target.runId());
                return;
            }
            RunId runId = RunId.parse(rawRunId).orElseThrow(() -> ApiProblem.notFound("run_not_found", "No such run"));
            target = socket.followed.get(runId);
            ThreadId threadId = target != null ? target.threadId()
                    : rawThreadId == null ? null : ThreadId.parse(rawThreadId)
                            .orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
            if (threadId == null) {
                throw ApiProblem.notFound("run_not_found", "No such run on this socket; name its thread_id to cancel it");
            }
            config.chat().cancelRun(socket.userId, threadId, runId);
        } catch (RuntimeException e) {
            send(socket, problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
        }
    }

    // ---- sending ----

    private static ObjectNode error(String code, String message, String requestId) {
        ObjectNode frame = Json.object().put("type", "error").put("code", code).put("message", message);
        if (requestId != null) {
            frame.put("request_id", requestId);
        }
        return frame;
    }

    private static ObjectNode validation(String field, String message, String requestId) {
        return problemFrame(ApiProblem.field(field, message), requestId);
    }

    private static ObjectNode problemFrame(ApiProblem problem, String requestId) {
        ObjectNode frame = error(problem.code, problem.getMessage(), requestId);
        if (!problem.errors.isEmpty()) {
            ArrayNode errors = frame.putArray("errors");
            for (FieldError e : problem.errors) {
                errors.addObject().put("field", e.field()).put("message", e.message());
            }
        }
        String retryAfter = problem.headers.get("Retry-After");
        if (retryAfter != null) {
            frame.put("retry_after", Long.parseLong(retryAfter));
        }
        return frame;
    }

    /** Sends one frame and waits for it to be written; false (and the socket closed) when it cannot be. */
    private boolean send(Socket socket, ObjectNode frame) {
        socket.sendLock.lock();
        try {
            if (!socket.session.isOpen()) {
                return false;
            }
            Callback.Completable done = new Callback.Completable();
            socket.session.sendText(Json.write(frame), done);
            done.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("Dropping WebSocket {} that cannot be written to: {}", socket.sessionId, e.toString());
            socket.session.disconnect();
            return false;
        } finally {
            socket.sendLock.unlock();
        }
    }
}
