package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.RunStream;
import io.javalin.http.Context;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
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
 *
 * <p>Ordering: the {@code chat} and {@code cancel} frames of a socket take effect in the order they
 * arrived (each waits until the one before has started its run or sent its cancel), and the runs
 * of one thread followed on a socket are delivered one after the other: a run that interrupted an
 * earlier one sends its first frame only after the earlier run's terminal frame.
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

    /** A run followed on a socket; {@code delivered} completes when its pump has stopped (after its terminal frame, normally). */
    private record Followed(RunId runId, ThreadId threadId, String requestId, RunStream subscription,
                            CompletableFuture<Void> delivered) {}

    /** What the endpoint needs of a WebSocket session. */
    interface Connection {
        boolean isOpen();

        /** Queues one text frame; {@code done} completes once it is written (or fails). */
        void sendText(String text, Callback done);

        /** Starts a close handshake. */
        void close(int code, String reason);

        /** Drops the connection without a handshake. */
        void disconnect();

        static Connection of(Session session) {
            return new Connection() {
                @Override
                public boolean isOpen() {
                    return session.isOpen();
                }

                @Override
                public void sendText(String text, Callback done) {
                    session.sendText(text, done);
                }

                @Override
                public void close(int code, String reason) {
                    session.close(code, reason, Callback.NOOP);
                }

                @Override
                public void disconnect() {
                    session.disconnect();
                }
            };
        }
    }

    /** The state of one connection. */
    static final class Socket {
        final Connection session;
        final String sessionId = "ses_" + UUID.randomUUID().toString().replace("-", "");
        final ReentrantLock sendLock = new ReentrantLock();
        final Map<RunId, Followed> followed = new ConcurrentHashMap<>();
        volatile String userId;
        volatile RunId lastRun;
        volatile ScheduledFuture<?> authTimeout;
        /** Completes once the last chat or cancel frame received has taken effect; guarded by {@code this}. */
        private CompletableFuture<Void> lastInOrder = CompletableFuture.completedFuture(null);

        Socket(Connection session) {
            this.session = session;
        }

        /**
         * Takes the next place in the socket's order of run-changing frames: answers the future of
         * the frame before, and makes {@code mine} the one the next frame waits for.
         */
        synchronized CompletableFuture<Void> takeTurn(CompletableFuture<Void> mine) {
            CompletableFuture<Void> before = lastInOrder;
            lastInOrder = mine;
            return before;
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
        Socket socket = new Socket(Connection.of(ctx.session));
        sockets.put(ctx.sessionId(), socket);
        if (config.metrics() != null) {
            config.metrics().webSocketOpened();
        }
        ctx.session.setMaxTextMessageSize(config.maxBodyBytes());
        ctx.session.setIdleTimeout(config.heartbeatInterval().multipliedBy(3));
        ctx.enableAutomaticPings(config.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
        String authorization = ctx.header("Authorization");
        if (authorization != null) {
            try {
                authenticated(socket, api.authenticate(authorization), null);
            } catch (ApiProblem e) {
                send(socket, error("unauthorized", e.getMessage(), null));
                socket.session.close(CLOSE_UNAUTHORIZED, "unauthorized");
            }
            return;
        }
        socket.authTimeout = timer.schedule(() -> {
            if (socket.userId == null && socket.session.isOpen()) {
                socket.session.close(CLOSE_UNAUTHORIZED, "authentication timeout");
            }
        }, config.webSocketAuthTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void onClose(WsCloseContext ctx) {
        Socket socket = sockets.remove(ctx.sessionId());
        if (socket != null) {
            release(socket);
            if (config.metrics() != null) {
                config.metrics().webSocketClosed();
            }
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
        if (socket != null) {
            onText(socket, ctx.message());
        }
    }

    /** Handles one text frame of {@code socket}: its answer frames, or an error frame for anything that goes wrong. */
    void onText(Socket socket, String text) {
        String requestId = Api.requestId(null);
        MDC.put("request_id", requestId);
        try {
            handleFrame(socket, text);
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
                socket.session.close(CLOSE_UNAUTHORIZED, "unauthorized");
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
                    inOrder(socket, (before, done) -> runChat(socket, chat, rid, before, done));
                }
                case "cancel" -> {
                    api.rateLimit(socket.userId);
                    String rid = requestId;
                    String runId = optionalText(frame, "run_id");
                    String threadId = optionalText(frame, "thread_id");
                    inOrder(socket, (before, done) -> {
                        try {
                            before.join();
                            cancel(socket, runId, threadId, rid);
                        } finally {
                            done.complete(null);
                        }
                    });
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

    /** Runs {@code step} on a worker of its own, in the socket's order of run-changing frames. */
    private void inOrder(Socket socket, InOrder step) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> before = socket.takeTurn(done);
        try {
            workers.newThread(() -> step.run(before, done)).start();
        } catch (RuntimeException | Error e) {
            before.whenComplete((ignored, failure) -> done.complete(null));
            throw e;
        }
    }

    /** A run-changing frame's work: wait for {@code before}, take effect, complete {@code done}. */
    @FunctionalInterface
    private interface InOrder {
        void run(CompletableFuture<Void> before, CompletableFuture<Void> done);
    }

    /**
     * Once the frames before it have taken effect: sends the message (interrupting the thread's
     * active run), starts following the new run and lets the next frame go on; then, once the
     * earlier runs of the same thread followed here have sent their last frame, pumps the new one.
     */
    private void runChat(Socket socket, Requests.Chat chat, String requestId, CompletableFuture<Void> before,
                         CompletableFuture<Void> done) {
        Followed followed;
        List<Followed> earlier;
        try {
            before.join();
            ThreadId threadId = null;
            if (chat.threadId() != null) {
                threadId = ThreadId.parse(chat.threadId())
                        .orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
            }
            SendReceipt receipt = config.chat().send(new SendMessageCommand(socket.userId, threadId, chat.agentId(),
                    chat.content(), BusyPolicy.INTERRUPT, null, chat.metadata()));
            RunId runId = receipt.run().id();
            ThreadId thread = receipt.thread().id();
            RunStream subscription = config.chat().subscribe(socket.userId, thread, runId, 0, DisconnectPolicy.CONTINUE);
            followed = new Followed(runId, thread, requestId, subscription, new CompletableFuture<>());
            earlier = socket.followed.values().stream().filter(f -> f.threadId().equals(thread)).toList();
            socket.followed.put(runId, followed);
            socket.lastRun = runId;
            if (!socket.session.isOpen()) {
                subscription.close();
            }
        } catch (RuntimeException e) {
            send(socket, problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
            return;
        } finally {
            done.complete(null);
        }
        try {
            pump(socket, followed, earlier);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Sends the run's frames until its terminal one, after the {@code earlier} runs of its thread
     * followed on this socket have sent theirs (their events were all published before this run's
     * first, so this waits only for their delivery; a pump stuck that long drops the socket anyway).
     */
    private void pump(Socket socket, Followed followed, List<Followed> earlier) throws InterruptedException {
        if (config.metrics() != null) {
            config.metrics().streamOpened(true);
        }
        try (RunStream subscription = followed.subscription()) {
            awaitDelivered(earlier);
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
            followed.delivered().complete(null);
            if (config.metrics() != null) {
                config.metrics().streamClosed(true);
            }
        }
    }

    private static void awaitDelivered(List<Followed> earlier) throws InterruptedException {
        long deadline = System.nanoTime() + SEND_TIMEOUT.toNanos();
        for (Followed f : earlier) {
            try {
                f.delivered().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                LOG.debug("Run {} is still being delivered; following the next run of its thread regardless", f.runId());
                return;
            } catch (ExecutionException e) {
                // never completed exceptionally
            }
        }
    }

    private void cancel(Socket socket, String rawRunId, String rawThreadId, String requestId) {
        try {
            Followed target;
            if (rawRunId == null) {
                RunId last = socket.lastRun;
                target = last == null ? null : socket.followed.get(last);
                if (target == null) {
                    throw new ApiProblem(409, ConflictException.Reason.NO_ACTIVE_RUN.wireName(), "This socket has no active run");
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

    private ObjectNode validation(String field, String message, String requestId) {
        return problemFrame(ApiProblem.field(field, message), requestId);
    }

    private ObjectNode problemFrame(ApiProblem problem, String requestId) {
        if (problem.status == 503 && config.metrics() != null) {
            config.metrics().storeError("websocket");
        }
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
