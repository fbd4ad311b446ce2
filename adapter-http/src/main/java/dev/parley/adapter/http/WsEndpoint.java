package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.TraceSpan;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.SendReceipt;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code /api/v1/ws}: authentication by first frame or {@code Authorization} header, {@code chat},
 * {@code cancel}, {@code ping}; run events as frames with the SSE fields plus {@code request_id}.
 * Each chat's run is followed by a subscription of its own whose events are pushed to the socket as
 * they come (no thread waits for an idle run), so a slow socket only holds up itself. A bad frame is
 * answered with an {@code error} frame and the socket stays open.
 *
 * <p>Ordering: the {@code chat} and {@code cancel} frames of a socket take effect in the order they
 * arrived (each waits until the one before has started its run or sent its cancel), and the runs
 * of one thread followed on a socket are delivered one after the other: a run that interrupted an
 * earlier one sends its first frame only after the earlier run's terminal frame.
 */
final class WsEndpoint {
    static final int CLOSE_UNAUTHORIZED = 4401;
    /** Close code "try again later" (RFC 6455): the identity provider is not reachable yet. */
    static final int CLOSE_TRY_AGAIN_LATER = 1013;
    private static final Logger LOG = LoggerFactory.getLogger(WsEndpoint.class);
    private static final int MAX_REQUEST_ID_LENGTH = 128;

    private final ParleyHttp.Config config;
    private final Credentials credentials;
    private final ChatFlow flow;
    private final ScheduledExecutorService timer;
    private final ThreadFactory workers = Threads.factory("parley-ws-");
    private final Map<String, WsSocket> sockets = new ConcurrentHashMap<>();
    private final WsGate gate;

    WsEndpoint(ParleyHttp.Config config, Credentials credentials, ChatFlow flow) {
        this.config = config;
        this.credentials = credentials;
        this.flow = flow;
        this.gate = new WsGate(config.streamLimits(), config.maxUnauthenticatedWebSockets());
        this.timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "parley-ws-auth-timeout");
            t.setDaemon(true);
            return t;
        });
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
        WsSocket socket = new WsSocket(WsSocket.Connection.of(ctx.session));
        sockets.put(ctx.sessionId(), socket);
        if (config.metrics() != null) {
            config.metrics().webSocketOpened();
        }
        ctx.session.setMaxTextMessageSize(config.maxBodyBytes());
        ctx.session.setIdleTimeout(config.heartbeatInterval().multipliedBy(3));
        ctx.enableAutomaticPings(config.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
        if (!gate.connected(socket)) {
            return;
        }
        String authorization = ctx.header("Authorization");
        if (authorization != null) {
            try {
                authenticated(socket, credentials.authenticate(authorization).userId(), null);
            } catch (ApiProblem e) {
                socket.send(WsFrames.error("unauthorized", e.getMessage(), null));
                socket.session.close(CLOSE_UNAUTHORIZED, "unauthorized");
            } catch (IdentityProviderUnavailableException e) {
                socket.send(WsFrames.error("unavailable", e.getMessage() + "; retry later", null));
                socket.session.close(CLOSE_TRY_AGAIN_LATER, "unavailable");
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
        WsSocket socket = sockets.remove(ctx.sessionId());
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

    private void release(WsSocket socket) {
        ScheduledFuture<?> timeout = socket.authTimeout;
        if (timeout != null) {
            timeout.cancel(false);
        }
        gate.closed(socket);
        // followed runs go on unless their chat asked for on_disconnect: cancel (closing applies the policy)
        socket.followed.values().forEach(f -> f.delivery().close());
    }

    private void authenticated(WsSocket socket, String userId, String requestId) {
        ScheduledFuture<?> timeout = socket.authTimeout;
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (!gate.authenticated(socket, userId, requestId)) {
            return;
        }
        socket.userId = userId;
        ObjectNode frame = Json.object().put("type", "session_start").put("session_id", socket.sessionId);
        if (requestId != null) {
            frame.put("request_id", requestId);
        }
        socket.send(frame);
    }

    // ---- frames ----

    private void onMessage(WsMessageContext ctx) {
        WsSocket socket = sockets.get(ctx.sessionId());
        if (socket != null) {
            onText(socket, ctx.message());
        }
    }

    /** Handles one text frame of {@code socket}: its answer frames, or an error frame for anything that goes wrong. */
    void onText(WsSocket socket, String text) {
        String requestId = Api.requestId(null);
        MDC.put("request_id", requestId);
        try {
            handleFrame(socket, text);
        } catch (RuntimeException e) {
            ApiProblem problem = Errors.toProblem(e, requestId);
            socket.send(problemFrame(problem, null));
        } finally {
            MDC.remove("request_id");
        }
    }

    private void handleFrame(WsSocket socket, String text) {
        JsonNode frame;
        try {
            frame = Json.parse(text);
        } catch (Exception e) {
            socket.send(WsFrames.error("invalid_json", "Frames must be JSON objects", null));
            return;
        }
        if (frame == null || !frame.isObject()) {
            socket.send(WsFrames.error("invalid_json", "Frames must be JSON objects", null));
            return;
        }
        JsonNode requestIdNode = frame.get("request_id");
        String requestId = null;
        if (requestIdNode != null && !requestIdNode.isNull()) {
            if (!requestIdNode.isTextual() || requestIdNode.textValue().isEmpty()
                    || requestIdNode.textValue().length() > MAX_REQUEST_ID_LENGTH
                    || Requests.textProblem(requestIdNode.textValue()) != null) {
                socket.send(validation("request_id", "must be a string of 1 to " + MAX_REQUEST_ID_LENGTH + " characters", null));
                return;
            }
            requestId = requestIdNode.textValue();
        }
        JsonNode typeNode = frame.get("type");
        if (typeNode == null || !typeNode.isTextual()) {
            socket.send(validation("type", "is required", requestId));
            return;
        }
        String type = typeNode.textValue();
        if (socket.userId == null) {
            if (!type.equals("auth")) {
                socket.send(WsFrames.error("unauthorized", "Authenticate first with {\"type\":\"auth\",\"token\":\"...\"}", requestId));
                return;
            }
            JsonNode token = frame.get("token");
            if (token == null || !token.isTextual() || token.textValue().isEmpty()) {
                socket.send(validation("token", "is required", requestId));
                return;
            }
            Optional<String> user;
            try {
                user = credentials.user(token.textValue());
            } catch (IdentityProviderUnavailableException e) {
                socket.send(WsFrames.error("unavailable", e.getMessage() + "; retry later", requestId));
                socket.session.close(CLOSE_TRY_AGAIN_LATER, "unavailable");
                return;
            }
            if (user.isEmpty()) {
                socket.send(WsFrames.error("unauthorized", "The token is malformed, expired or not valid", requestId));
                socket.session.close(CLOSE_UNAUTHORIZED, "unauthorized");
                return;
            }
            authenticated(socket, user.get(), requestId);
            return;
        }
        try {
            switch (type) {
                case "auth" -> socket.send(WsFrames.error("already_authenticated", "This socket is already authenticated", requestId));
                case "ping" -> {
                    ObjectNode pong = Json.object().put("type", "pong");
                    if (requestId != null) {
                        pong.put("request_id", requestId);
                    }
                    socket.send(pong);
                }
                case "pong" -> { }
                case "chat" -> {
                    credentials.rateLimit(socket.userId);
                    Requests.Chat chat = Requests.chat(frame, true, config.maxMessageChars());
                    String rid = requestId;
                    inOrder(socket, "chat", (before, done) -> runChat(socket, chat, rid, before, done));
                }
                case "cancel" -> {
                    credentials.rateLimit(socket.userId);
                    String rid = requestId;
                    String runId = WsFrames.optionalText(frame, "run_id");
                    String threadId = WsFrames.optionalText(frame, "thread_id");
                    inOrder(socket, "cancel", (before, done) -> {
                        try {
                            before.join();
                            cancel(socket, runId, threadId, rid);
                        } finally {
                            done.complete(null);
                        }
                    });
                }
                case "approval" -> {
                    credentials.rateLimit(socket.userId);
                    Requests.Approval approval = Requests.approval(frame);
                    RunId runId = Ids.run(Optional.ofNullable(WsFrames.optionalText(frame, "run_id"))
                            .orElseThrow(() -> ApiProblem.field("run_id", "is required")));
                    WsSocket.Followed followed = socket.followed.get(runId);
                    String rawThread = WsFrames.optionalText(frame, "thread_id");
                    ThreadId threadId = followed != null ? followed.threadId() : rawThread == null ? null : Ids.thread(rawThread);
                    if (threadId == null) {
                        throw ApiProblem.notFound("run_not_found", "No such run on this socket; name its thread_id to decide on it");
                    }
                    config.chat().decide(new ApprovalCommand(socket.userId, threadId, runId, approval.toolCallId(),
                            approval.decision(), approval.reason()));
                }
                default -> socket.send(WsFrames.error("unknown_type",
                        "Unknown frame type; expected auth, chat, cancel, approval, ping or pong", requestId));
            }
        } catch (RuntimeException e) {
            socket.send(problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
        }
    }

    /** Runs {@code step} on a worker of its own, in the socket's order of run-changing frames. */
    private void inOrder(WsSocket socket, String frameType, InOrder step) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> before = socket.takeTurn(done);
        // the frame's request id and span go with its work, so that the run it starts names them too
        String requestId = MDC.get("request_id");
        TraceSpan frameSpan = config.tracer().frame("websocket", frameType, requestId);
        try {
            workers.newThread(frameSpan.wrap(() -> {
                MDC.put("request_id", requestId);
                try {
                    step.run(before, done);
                } finally {
                    MDC.remove("request_id");
                    frameSpan.end();
                }
            })).start();
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
     * Once the frames before it have taken effect: sends the message (with the chat's busy policy,
     * interrupting the thread's active run by default), subscribes to the new run and lets the next frame
     * go on. The run's frames are pushed to the socket as they come, the first of them once the earlier
     * runs of the same thread followed here have sent their last frame.
     */
    private void runChat(WsSocket socket, Requests.Chat chat, String requestId, CompletableFuture<Void> before,
                         CompletableFuture<Void> done) {
        try {
            before.join();
            ThreadId threadId = ChatFlow.target(null, chat);
            SendReceipt receipt = flow.send(socket.userId, threadId, chat, BusyPolicy.INTERRUPT, null);
            RunId runId = receipt.run().id();
            ThreadId thread = receipt.thread().id();
            List<WsSocket.Followed> earlier = socket.followed.values().stream().filter(f -> f.threadId().equals(thread)).toList();
            CompletableFuture<Void> delivered = new CompletableFuture<>();
            StreamDelivery delivery = flow.start(flow.follow(socket.userId, receipt, chat, 0, requestId),
                    new FrameSink(socket, requestId, earlier), end -> {
                        socket.followed.computeIfPresent(runId, (id, f) -> f.delivered() == delivered ? null : f);
                        delivered.complete(null);
                    });
            socket.followed.put(runId, new WsSocket.Followed(runId, thread, requestId, delivery, delivered));
            socket.lastRun = runId;
            delivery.attach();
            if (!socket.session.isOpen()) {
                delivery.close();
            }
        } catch (RuntimeException e) {
            socket.send(problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
        } finally {
            done.complete(null);
        }
    }

    /**
     * The chat flow's sink for one run followed on a socket: each event or heartbeat is a frame of
     * its own (with the chat's {@code request_id}), written before the next is handed over, so a
     * delivery stuck on a slow socket holds up only that socket (and drops it after the send timeout).
     * Its first frame waits for the {@code earlier} runs of the same thread on this socket.
     */
    private static final class FrameSink implements ChatFlow.Sink {
        private final WsSocket socket;
        private final String requestId;
        private final List<WsSocket.Followed> earlier;

        FrameSink(WsSocket socket, String requestId, List<WsSocket.Followed> earlier) {
            this.socket = socket;
            this.requestId = requestId;
            this.earlier = earlier;
        }

        @Override
        public boolean webSocket() {
            return true;
        }

        @Override
        public void open() throws IOException {
            try {
                awaitDelivered(earlier);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while earlier runs were delivered");
            }
        }

        @Override
        public boolean isOpen() {
            return socket.session.isOpen();
        }

        @Override
        public void event(RunEvent event) throws IOException {
            write(Wire.eventJson(event, requestId));
        }

        @Override
        public void heartbeat() throws IOException {
            ObjectNode frame = Wire.heartbeat();
            if (requestId != null) {
                frame.put("request_id", requestId);
            }
            write(Json.write(frame));
        }

        private void write(String frame) throws IOException {
            if (!socket.send(frame)) {
                throw new IOException("the WebSocket is closed");
            }
        }
    }

    /**
     * Waits until the {@code earlier} runs of a thread followed on this socket have sent their last
     * frame (their events were all published before the next run's first, so this waits only for
     * their delivery; a delivery stuck that long drops the socket anyway).
     */
    private static void awaitDelivered(List<WsSocket.Followed> earlier) throws InterruptedException {
        long deadline = System.nanoTime() + WsSocket.SEND_TIMEOUT.toNanos();
        for (WsSocket.Followed f : earlier) {
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

    private void cancel(WsSocket socket, String rawRunId, String rawThreadId, String requestId) {
        try {
            WsSocket.Followed target;
            if (rawRunId == null) {
                RunId last = socket.lastRun;
                target = last == null ? null : socket.followed.get(last);
                if (target == null) {
                    throw new ApiProblem(409, ConflictException.Reason.NO_ACTIVE_RUN.wireName(), "This socket has no active run");
                }
                config.chat().cancelRun(socket.userId, target.threadId(), target.runId());
                return;
            }
            RunId runId = Ids.run(rawRunId);
            target = socket.followed.get(runId);
            ThreadId threadId = target != null ? target.threadId()
                    : rawThreadId == null ? null : Ids.thread(rawThreadId);
            if (threadId == null) {
                throw ApiProblem.notFound("run_not_found", "No such run on this socket; name its thread_id to cancel it");
            }
            config.chat().cancelRun(socket.userId, threadId, runId);
        } catch (RuntimeException e) {
            socket.send(problemFrame(Errors.toProblem(e, Api.requestId(null)), requestId));
        }
    }

    // ---- sending ----

    private ObjectNode validation(String field, String message, String requestId) {
        return problemFrame(ApiProblem.field(field, message), requestId);
    }

    private ObjectNode problemFrame(ApiProblem problem, String requestId) {
        return WsFrames.problem(problem, requestId, config.metrics());
    }
}
