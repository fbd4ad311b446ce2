package dev.parley.adapter.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.WireEnum;
import dev.parley.chat.port.in.AgentAdmin;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.UpdateThreadCommand;
import dev.parley.chat.port.in.RunStream;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import jakarta.servlet.AsyncContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The routes of the HTTP contract, their guard (request id, CORS, auth, rate limit, errors) and their handlers. */
final class Api {
    static final String BASE = "/api/v1";
    static final String REQUEST_ID_HEADER = "X-Request-Id";
    private static final Logger LOG = LoggerFactory.getLogger(Api.class);
    private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final Pattern LIMIT = Pattern.compile("[0-9]{1,4}");
    private static final Pattern SEQ = Pattern.compile("[0-9]{1,18}");
    private static final int MAX_CURSOR_LENGTH = 1024;
    private static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    /** How many times the body limit an oversized body may be before it is no longer read to its end. */
    private static final int DRAIN_FACTOR = 4;
    private static final List<HandlerType> CATCH_ALL_METHODS = List.of(
            HandlerType.GET, HandlerType.HEAD, HandlerType.POST, HandlerType.PUT, HandlerType.PATCH, HandlerType.DELETE,
            HandlerType.OPTIONS);
    private static final String UNMATCHED = "unmatched";
    static final String ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, Accept, Idempotency-Key, Last-Event-ID, X-Request-Id";

    private static final HexFormat HEX = HexFormat.of();

    private final ParleyHttp.Config config;
    private final ChatUseCases chat;
    private final RateLimiter rateLimiter;
    private final ParleyMetrics metrics;
    private final List<Route> routes = new ArrayList<>();
    /** One thread per open event stream (virtual when the JVM has them): it pumps the stream once the request's own thread is handed back. */
    private final ThreadFactory streamThreads = Threads.factory("parley-sse-");
    private final Set<Thread> pumping = ConcurrentHashMap.newKeySet();

    Api(ParleyHttp.Config config) {
        this.config = config;
        this.chat = config.chat();
        this.rateLimiter = config.rateLimiter();
        this.metrics = config.metrics();
    }

    /** Who may call a route. */
    enum Access { PUBLIC, USER }

    /** One request as the handlers see it; {@code userId} is null on public routes. */
    record Call(Context ctx, String requestId, String userId) {}

    @FunctionalInterface
    interface Endpoint {
        void handle(Call call) throws Exception;
    }

    private record Route(HandlerType method, String path, Pattern pattern) {}

    void install(JavalinConfig cfg, boolean standalone) {
        Docs docs = new Docs();
        route(cfg, HandlerType.GET, "/health", Access.PUBLIC, call -> json(call, 200, Json.object().put("status", "ok")));
        route(cfg, HandlerType.GET, "/ready", Access.PUBLIC, this::ready);
        route(cfg, HandlerType.GET, "/openapi.json", Access.PUBLIC, docs::openApi);
        route(cfg, HandlerType.GET, "/docs", Access.PUBLIC, docs::page);
        route(cfg, HandlerType.GET, "/docs/{asset}", Access.PUBLIC, docs::asset);
        if (config.metricsScrape() != null) {
            route(cfg, HandlerType.GET, "/metrics", Access.PUBLIC, this::metrics);
        }

        if (chat instanceof AgentAdmin admin) {
            new AgentRoutes(this, config, admin).install(cfg);
        } else {
            route(cfg, HandlerType.GET, BASE + "/agents", Access.PUBLIC, this::listAgents);
            route(cfg, HandlerType.GET, BASE + "/agents/{agent_id}", Access.PUBLIC, this::getAgent);
        }
        route(cfg, HandlerType.POST, BASE + "/threads", Access.USER, this::createThread);
        route(cfg, HandlerType.GET, BASE + "/threads", Access.USER, this::listThreads);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}", Access.USER, this::getThread);
        route(cfg, HandlerType.PATCH, BASE + "/threads/{thread_id}", Access.USER, this::updateThread);
        route(cfg, HandlerType.DELETE, BASE + "/threads/{thread_id}", Access.USER, this::deleteThread);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/messages", Access.USER, this::listMessages);
        route(cfg, HandlerType.POST, BASE + "/threads/{thread_id}/chat", Access.USER, call -> chat(call, false));
        route(cfg, HandlerType.DELETE, BASE + "/threads/{thread_id}/chat", Access.USER, this::cancelActive);
        route(cfg, HandlerType.POST, BASE + "/chat", Access.USER, call -> chat(call, true));
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/runs", Access.USER, this::listRuns);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/runs/{run_id}", Access.USER, this::getRun);
        route(cfg, HandlerType.POST, BASE + "/threads/{thread_id}/runs/{run_id}/cancel", Access.USER, this::cancelRun);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/runs/{run_id}/events", Access.USER, this::events);

        WsEndpoint ws = new WsEndpoint(config, this);
        route(cfg, HandlerType.GET, BASE + "/ws", Access.PUBLIC, call -> {
            throw new ApiProblem(426, "upgrade_required", "This endpoint speaks WebSocket only").header("Upgrade", "websocket");
        });
        cfg.routes.wsBeforeUpgrade(BASE + "/ws", ws::beforeUpgrade);
        cfg.routes.ws(BASE + "/ws", ws::configure);
        cfg.events.serverStopping(ws::shutdown);
        cfg.events.serverStopping(() -> pumping.forEach(Thread::interrupt));

        for (HandlerType method : CATCH_ALL_METHODS) {
            cfg.routes.addHttpHandler(method, BASE + "/<rest>", guard(UNMATCHED, Access.PUBLIC, this::unmatched));
            if (standalone) {
                cfg.routes.addHttpHandler(method, "/<rest>", guard(UNMATCHED, Access.PUBLIC, this::unmatched));
                cfg.routes.addHttpHandler(method, "/", guard(UNMATCHED, Access.PUBLIC, this::unmatched));
            }
        }
    }

    /**
     * Registers a route; a GET route also answers HEAD with the same status and headers (Jetty sends
     * no body), instead of Javalin's bare 200 for a HEAD without a handler of its own.
     */
    void route(JavalinConfig cfg, HandlerType method, String path, Access access, Endpoint endpoint) {
        Pattern pattern = Pattern.compile(path.replaceAll("\\{[^/]+}", "[^/]+"));
        routes.add(new Route(method, path, pattern));
        cfg.routes.addHttpHandler(method, path, guard(path, access, endpoint));
        if (method == HandlerType.GET) {
            routes.add(new Route(HandlerType.HEAD, path, pattern));
            cfg.routes.addHttpHandler(HandlerType.HEAD, path, guard(path, access, endpoint));
        }
    }

    /**
     * Wraps the handler of route template {@code uri}: request id (header and log MDC), CORS,
     * authentication, rate limit, problem+json for every error, and the request's metrics.
     */
    Handler guard(String uri, Access access, Endpoint endpoint) {
        return ctx -> {
            long started = System.nanoTime();
            try {
                guarded(ctx, uri, access, endpoint);
            } finally {
                if (metrics != null) {
                    metrics.request(ctx.method().name(), uri, ctx.res().getStatus(), System.nanoTime() - started);
                }
            }
        };
    }

    private void guarded(Context ctx, String uri, Access access, Endpoint endpoint) {
        String requestId = requestId(ctx.header(REQUEST_ID_HEADER));
        MDC.put("request_id", requestId);
        try {
            ctx.header(REQUEST_ID_HEADER, requestId);
            cors(ctx);
            String userId = null;
            if (access == Access.USER) {
                userId = authenticate(ctx.header("Authorization"));
                rateLimit(userId);
            }
            endpoint.handle(new Call(ctx, requestId, userId));
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            ApiProblem problem = e instanceof InterruptedException
                    ? new ApiProblem(503, "unavailable", "The server is shutting down; retry later")
                    : Errors.toProblem(e, requestId);
            if (problem.status == 503 && metrics != null && !(e instanceof InterruptedException)) {
                metrics.storeError(uri.equals("/ready") ? "ready" : "http");
            }
            if (ctx.res().isCommitted()) {
                LOG.debug("Error after the response was committed (request {}): {}", requestId, problem.code);
                return;
            }
            sendProblem(ctx, problem);
        } finally {
            MDC.remove("request_id");
        }
    }

    static String requestId(String fromClient) {
        if (fromClient != null && CLIENT_REQUEST_ID.matcher(fromClient).matches()) {
            return fromClient;
        }
        // 128 random bits as 32 hex digits; an id to correlate logs, not a secret, so no SecureRandom
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "req_" + HEX.toHexDigits(random.nextLong()) + HEX.toHexDigits(random.nextLong());
    }

    /** The user a bearer header proves; otherwise a 401 problem. */
    String authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new ApiProblem(401, "unauthorized", "A bearer token is required")
                    .header("WWW-Authenticate", "Bearer realm=\"parley\"");
        }
        String token = bearerToken(authorization);
        Optional<String> user = token == null ? Optional.empty() : config.authenticator().authenticate(token);
        return user.orElseThrow(() -> new ApiProblem(401, "unauthorized", "The bearer token is missing, malformed, expired or not valid")
                .header("WWW-Authenticate", "Bearer realm=\"parley\", error=\"invalid_token\""));
    }

    static String bearerToken(String authorization) {
        String trimmed = authorization.trim();
        if (trimmed.length() < 8 || !trimmed.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = trimmed.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    /** Takes one request from the user's bucket; a 429 problem when it is empty. */
    void rateLimit(String userId) {
        if (rateLimiter == null) {
            return;
        }
        OptionalLong retryAfter = rateLimiter.tryAcquire(userId);
        if (retryAfter.isPresent()) {
            throw new ApiProblem(429, "rate_limited", "Too many requests; retry after " + retryAfter.getAsLong() + " s")
                    .header("Retry-After", Long.toString(retryAfter.getAsLong()));
        }
    }

    boolean corsAllows(String origin) {
        return origin != null && (config.corsOrigins().contains("*") || config.corsOrigins().contains(origin));
    }

    private void cors(Context ctx) {
        String origin = ctx.header("Origin");
        if (corsAllows(origin)) {
            ctx.header("Access-Control-Allow-Origin", config.corsOrigins().contains("*") ? "*" : origin);
            ctx.header("Vary", "Origin");
            ctx.header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, WWW-Authenticate, Location");
        }
    }

    static void sendProblem(Context ctx, ApiProblem problem) {
        ctx.status(problem.status);
        problem.headers.forEach(ctx::header);
        ctx.contentType("application/problem+json");
        ctx.result(Json.write(problem.body()));
    }

    static void json(Call call, int status, JsonNode body) {
        call.ctx().status(status);
        call.ctx().contentType("application/json");
        call.ctx().result(Json.write(body));
    }

    // ---- unknown routes, preflight ----

    private void unmatched(Call call) {
        Context ctx = call.ctx();
        String path = ctx.path();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        Set<String> allowed = new LinkedHashSet<>();
        for (Route route : routes) {
            if (route.pattern.matcher(path).matches()) {
                allowed.add(route.method.name());
            }
        }
        if (allowed.isEmpty()) {
            throw new ApiProblem(404, "not_found", "No such route");
        }
        allowed.add("OPTIONS");
        String allow = String.join(", ", allowed);
        if (ctx.method() == HandlerType.OPTIONS) {
            ctx.header("Allow", allow);
            if (corsAllows(ctx.header("Origin")) && ctx.header("Access-Control-Request-Method") != null) {
                ctx.header("Access-Control-Allow-Methods", allow);
                ctx.header("Access-Control-Allow-Headers", ALLOWED_REQUEST_HEADERS);
                ctx.header("Access-Control-Max-Age", "600");
            }
            ctx.status(204);
            return;
        }
        throw new ApiProblem(405, "method_not_allowed", "Method " + ctx.method().name() + " is not allowed here")
                .header("Allow", allow);
    }

    // ---- health ----

    private void ready(Call call) {
        try {
            config.readinessCheck().run();
        } catch (RuntimeException e) {
            LOG.warn("Not ready (request {}): {}", call.requestId(), e.toString());
            throw new ApiProblem(503, "unavailable", "The service is not ready; retry later");
        }
        json(call, 200, Json.object().put("status", "ready"));
    }

    // ---- metrics ----

    private void metrics(Call call) {
        String expected = config.metricsToken();
        if (expected != null) {
            String given = call.ctx().header("Authorization");
            String token = given == null ? null : bearerToken(given);
            if (token == null || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8))) {
                throw new ApiProblem(401, "unauthorized", "The metrics token is missing or wrong")
                        .header("WWW-Authenticate", "Bearer realm=\"parley-metrics\"");
            }
        }
        call.ctx().status(200);
        call.ctx().contentType("text/plain; version=0.0.4; charset=utf-8");
        call.ctx().result(config.metricsScrape().get());
    }

    // ---- agents ----

    private void listAgents(Call call) {
        ObjectNode page = Json.object();
        page.put("object", "list");
        ArrayNode data = page.putArray("data");
        chat.agents().forEach(a -> data.add(Wire.agent(a)));
        page.put("has_more", false);
        page.putNull("next_cursor");
        json(call, 200, page);
    }

    private void getAgent(Call call) {
        String id = call.ctx().pathParam("agent_id");
        if (!id.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw ApiProblem.notFound("agent_not_found", "No such agent");
        }
        json(call, 200, Wire.agent(chat.agent(id)));
    }

    // ---- threads ----

    private void createThread(Call call) {
        Requests.CreateThread req = Requests.createThread(readBody(call.ctx()));
        var thread = chat.createThread(new CreateThreadCommand(call.userId(), req.agentId(), req.title(), req.metadata(),
                req.agentVersion()));
        call.ctx().header("Location", BASE + "/threads/" + thread.id().value());
        json(call, 201, Wire.thread(thread));
    }

    private void listThreads(Call call) {
        String agentId = call.ctx().queryParam("agent_id");
        if (agentId != null && agentId.isEmpty()) {
            agentId = null;
        }
        if (agentId != null && Requests.textProblem(agentId) != null) {
            throw ApiProblem.parameter("agent_id", "is not a valid agent id");
        }
        json(call, 200, Wire.page(chat.listThreads(call.userId(), agentId, page(call.ctx())), Wire::thread));
    }

    private void getThread(Call call) {
        json(call, 200, Wire.thread(chat.getThread(call.userId(), threadId(call))));
    }

    private void updateThread(Call call) {
        ThreadId id = threadId(call);
        Requests.UpdateThread req = Requests.updateThread(readBody(call.ctx()));
        var thread = chat.updateThread(new UpdateThreadCommand(call.userId(), id,
                Optional.ofNullable(req.title()), Optional.ofNullable(req.metadata())));
        json(call, 200, Wire.thread(thread));
    }

    private void deleteThread(Call call) {
        ThreadId id = threadId(call);
        boolean hard = booleanParam(call.ctx(), "hard");
        chat.deleteThread(call.userId(), id, hard);
        call.ctx().status(204);
    }

    private void listMessages(Call call) {
        ThreadId id = threadId(call);
        PageRequest page = page(call.ctx());
        SortOrder order = SortOrder.ASC;
        String raw = call.ctx().queryParam("order");
        if (raw != null) {
            order = WireEnum.fromWire(SortOrder.class, raw)
                    .orElseThrow(() -> ApiProblem.parameter("order", "must be asc or desc"));
        }
        json(call, 200, Wire.page(chat.listMessages(call.userId(), id, page, order), Wire::message));
    }

    // ---- runs ----

    private void listRuns(Call call) {
        ThreadId id = threadId(call);
        json(call, 200, Wire.page(chat.listRuns(call.userId(), id, page(call.ctx())), Wire::run));
    }

    private void getRun(Call call) {
        ThreadId thread = threadId(call);
        RunId run = runId(call);
        json(call, 200, Wire.runWithSteps(chat.getRun(call.userId(), thread, run)));
    }

    private void cancelRun(Call call) {
        ThreadId thread = threadId(call);
        RunId run = runId(call);
        json(call, 200, Wire.run(chat.cancelRun(call.userId(), thread, run)));
    }

    private void cancelActive(Call call) {
        json(call, 200, Wire.run(chat.cancelActiveRun(call.userId(), threadId(call))));
    }

    private void events(Call call) throws InterruptedException, IOException {
        ThreadId thread = threadId(call);
        RunId run = runId(call);
        long after = lastEventId(call.ctx());
        RunStream subscription = chat.subscribe(call.userId(), thread, run, after, DisconnectPolicy.CONTINUE);
        Optional<RunStream> opened = ReadAhead.open(subscription);
        if (call.ctx().method() == HandlerType.HEAD) {
            // the checks and headers of the stream without waiting for its events; committed before the
            // handler ends so that Jetty does not announce a Content-Length of 0 for an open-ended stream
            opened.ifPresent(RunStream::close);
            if (opened.isEmpty()) {
                call.ctx().status(204);
                return;
            }
            SseStream.headers(call.ctx().res());
            call.ctx().res().flushBuffer();
            return;
        }
        stream(call, opened);
    }

    /** The seq a resuming client last received ({@code Last-Event-ID}); 0 without the header. */
    private static long lastEventId(Context ctx) {
        String lastEventId = ctx.header("Last-Event-ID");
        if (lastEventId == null || lastEventId.isBlank()) {
            return 0;
        }
        String trimmed = lastEventId.trim();
        if (!SEQ.matcher(trimmed).matches()) {
            throw ApiProblem.parameter("Last-Event-ID", "must be the seq of an event (a non-negative integer)");
        }
        return Long.parseLong(trimmed);
    }

    // ---- chat ----

    private void chat(Call call, boolean threadless) throws InterruptedException {
        Context ctx = call.ctx();
        ThreadId pathThread = threadless ? null : threadId(call);
        Requests.Chat req = Requests.chat(readBody(ctx), threadless, config.maxMessageChars());
        ThreadId threadId = pathThread;
        if (threadless && req.threadId() != null) {
            threadId = ThreadId.parse(req.threadId())
                    .orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
        }
        String idempotencyKey = idempotencyKey(ctx.header("Idempotency-Key"));
        boolean stream = Boolean.TRUE.equals(req.stream()) || acceptsEventStream(ctx.header("Accept"));
        long resumeAfter = stream ? lastEventId(ctx) : 0;
        SendReceipt receipt = chat.send(new SendMessageCommand(call.userId(), threadId, req.agentId(), req.content(),
                req.ifBusy(), idempotencyKey, req.metadata(), req.variables()));
        if (stream) {
            DisconnectPolicy onDisconnect = req.onDisconnect() == null ? DisconnectPolicy.CONTINUE : req.onDisconnect();
            // a retry that joins the original run resumes as /events does; a new run starts at its first event
            long after = receipt.replayed() ? resumeAfter : 0;
            Optional<RunStream> subscription;
            try {
                subscription = ReadAhead.open(chat.subscribe(call.userId(), receipt.thread().id(), receipt.run().id(), after, onDisconnect));
            } catch (RuntimeException e) {
                throw afterSend(e, receipt, call.requestId());
            }
            stream(call, subscription);
            return;
        }
        RunOutcome outcome;
        try {
            outcome = chat.await(call.userId(), receipt.run().id(), config.syncChatTimeout());
        } catch (RuntimeException e) {
            throw afterSend(e, receipt, call.requestId());
        }
        Run run = outcome.run();
        if (run.status() == RunStatus.FAILED) {
            throw runFailed(run);
        }
        if (!run.isTerminal()) {
            throw new ApiProblem(504, "timeout", "The run did not end within " + config.syncChatTimeout().toSeconds()
                    + " s; it goes on and can be followed on its events route")
                    .with("run_id", run.id().value())
                    .with("thread_id", run.threadId().value());
        }
        json(call, 200, syncReply(receipt, outcome));
    }

    /**
     * The problem for a failure after the message and its run were stored (e.g. the store went away
     * in between): it names the run, so the client knows the message is kept and can follow the run.
     */
    static ApiProblem afterSend(RuntimeException e, SendReceipt receipt, String requestId) {
        ApiProblem problem = Errors.toProblem(e, requestId);
        if (!problem.extras.containsKey("run_id")) {
            problem.with("run_id", receipt.run().id().value()).with("thread_id", receipt.thread().id().value());
        }
        return problem;
    }

    /**
     * Answers the request with the subscription's events, or 204 when there is none left (see
     * {@link ReadAhead}). The stream is pumped by a thread of its own, started once the handler returns
     * (servlet async), so the request's thread, with Jetty's and Javalin's frames on its stack, does
     * not stay parked for the life of the stream.
     */
    private void stream(Call call, Optional<RunStream> opened) {
        Context ctx = call.ctx();
        if (opened.isEmpty()) {
            ctx.status(204); // the run is over and nothing is left after Last-Event-ID: EventSource stops on 204
            return;
        }
        RunStream subscription = opened.get();
        ctx.future(() -> {
            try {
                AsyncContext async = ctx.req().getAsyncContext();
                async.setTimeout(0); // a stream lasts as long as its run; heartbeats keep it alive
                streamThreads.newThread(() -> pump(call, subscription, async)).start();
            } catch (RuntimeException | Error e) {
                subscription.close();
                throw e;
            }
            // never completed: the pump ends the request itself (see pump), Javalin has nothing left to write
            return new CompletableFuture<Void>();
        });
    }

    /**
     * Pumps one stream on its own thread, then completes the request's async context itself rather
     * than through Javalin's future: when the client went away or the server is stopping, Jetty may
     * have failed and recycled the request already, and Javalin's completion would then run its
     * error handling on a dead response.
     */
    private void pump(Call call, RunStream subscription, AsyncContext async) {
        Thread self = Thread.currentThread();
        pumping.add(self);
        MDC.put("request_id", call.requestId());
        if (metrics != null) {
            metrics.streamOpened(false);
        }
        try {
            SseStream.pump(call.ctx().res(), subscription, config.heartbeatInterval());
        } catch (InterruptedException e) {
            // the server is stopping: the stream ends here and the client resumes elsewhere with Last-Event-ID
        } catch (RuntimeException e) {
            // the response is committed (headers went out first), so all that is left is to end the stream
            LOG.debug("Event stream ended by an error (request {}): {}", call.requestId(), Errors.toProblem(e, call.requestId()).code);
        } finally {
            subscription.close();
            if (metrics != null) {
                metrics.streamClosed(false);
            }
            MDC.remove("request_id");
            pumping.remove(self);
            try {
                async.complete();
            } catch (RuntimeException alreadyCompleted) {
                // Jetty completed the failed request itself
            }
        }
    }

    static ObjectNode syncReply(SendReceipt receipt, RunOutcome outcome) {
        Run run = outcome.run();
        ObjectNode o = Json.object();
        o.put("thread_id", run.threadId().value());
        o.put("run_id", run.id().value());
        o.put("message_id", outcome.assistantMessage() == null ? null : outcome.assistantMessage().id().value());
        o.put("user_message_id", receipt.userMessage().id().value());
        o.put("status", run.status().wireName());
        o.put("response", outcome.responseText());
        ArrayNode calls = o.putArray("tool_calls");
        for (Step step : outcome.steps()) {
            if (step.type() == StepType.TOOL_CALL) {
                ObjectNode call = Wire.toolCall(step.toolCall());
                call.put("output", step.output());
                calls.add(call);
            }
        }
        o.set("usage", Wire.usage(run.usage()));
        Wire.putCost(o, run.costUsd());
        return o;
    }

    static ApiProblem runFailed(Run run) {
        RunError error = run.error();
        String code = error.code();
        ApiProblem problem;
        if (code.startsWith("model_")) {
            problem = new ApiProblem(502, "model_error", "The model failed: " + error.message());
        } else if ("unavailable".equals(code)) {
            problem = new ApiProblem(503, "unavailable", "The service is temporarily unavailable; retry later");
        } else {
            problem = new ApiProblem(500, "run_failed", "The run failed: " + error.message());
        }
        return problem.with("run_id", run.id().value())
                .with("thread_id", run.threadId().value())
                .with("error", Map.of("code", code, "message", error.message()));
    }

    static boolean acceptsEventStream(String accept) {
        if (accept == null) {
            return false;
        }
        for (String range : accept.split(",")) {
            String type = range.split(";")[0].trim().toLowerCase(Locale.ROOT);
            if (type.equals("text/event-stream")) {
                return true;
            }
        }
        return false;
    }

    private static String idempotencyKey(String raw) {
        if (raw == null) {
            return null;
        }
        if (raw.isEmpty() || raw.length() > MAX_IDEMPOTENCY_KEY_LENGTH || !raw.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw ApiProblem.parameter("Idempotency-Key", "must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " visible ASCII characters");
        }
        return raw;
    }

    // ---- parameters and bodies ----

    static ThreadId threadId(Call call) {
        return ThreadId.parse(call.ctx().pathParam("thread_id"))
                .orElseThrow(() -> ApiProblem.notFound("thread_not_found", "No such thread"));
    }

    static RunId runId(Call call) {
        return RunId.parse(call.ctx().pathParam("run_id"))
                .orElseThrow(() -> ApiProblem.notFound("run_not_found", "No such run"));
    }

    static PageRequest page(Context ctx) {
        int limit = PageRequest.DEFAULT_LIMIT;
        String rawLimit = ctx.queryParam("limit");
        if (rawLimit != null) {
            if (!LIMIT.matcher(rawLimit).matches() || Integer.parseInt(rawLimit) < 1 || Integer.parseInt(rawLimit) > PageRequest.MAX_LIMIT) {
                throw ApiProblem.parameter("limit", "must be an integer from 1 to " + PageRequest.MAX_LIMIT);
            }
            limit = Integer.parseInt(rawLimit);
        }
        String cursor = ctx.queryParam("cursor");
        if (cursor != null && (cursor.length() > MAX_CURSOR_LENGTH || Requests.textProblem(cursor) != null)) {
            throw ApiProblem.parameter("cursor", "is not a cursor this API returned");
        }
        return new PageRequest(limit, cursor);
    }

    private static boolean booleanParam(Context ctx, String name) {
        String raw = ctx.queryParam(name);
        if (raw == null || raw.equals("false")) {
            return false;
        }
        if (raw.equals("true")) {
            return true;
        }
        throw ApiProblem.parameter(name, "must be true or false");
    }

    /**
     * The request body as a JSON object; an absent body is an empty object. 413 over the size limit,
     * 415 for a body that is not {@code application/json} (UTF-8), 400 for text that is not JSON,
     * 422 for JSON that is not an object.
     */
    JsonNode readBody(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > config.maxBodyBytes()) {
            throw tooLarge(ctx);
        }
        boolean chunked = ctx.header("Transfer-Encoding") != null;
        if (declared == 0 || (declared < 0 && !chunked)) {
            return Json.object();
        }
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            // a declared length is enforced by Jetty, so it sizes the buffer; a chunked body may run over
            bytes = in.readNBytes(declared > 0 ? (int) declared : (int) config.maxBodyBytes() + 1);
        } catch (IOException e) {
            throw new ApiProblem(400, "invalid_body", "The request body could not be read");
        }
        if (bytes.length > config.maxBodyBytes()) {
            throw tooLarge(ctx);
        }
        if (bytes.length == 0) {
            return Json.object();
        }
        requireJsonContentType(ctx.header("Content-Type"));
        return parseBody(bytes);
    }

    /** A non-empty request body as a JSON object: 400 {@code invalid_json} for anything but JSON in UTF-8, 422 when it is not an object. */
    static JsonNode parseBody(byte[] bytes) {
        JsonNode node;
        try {
            node = Json.parse(bytes);
        } catch (JsonProcessingException e) {
            throw new ApiProblem(400, "invalid_json", "The request body is not valid JSON in UTF-8");
        }
        if (node == null || !node.isObject()) {
            throw ApiProblem.field("body", "must be a JSON object");
        }
        return node;
    }

    /**
     * The 413 problem, after reading and dropping what is left of a body of moderate size: a server
     * that closes the connection on unread request bytes makes the client's kernel reset it, and the
     * client may then never see the 413. A body more than {@link #DRAIN_FACTOR} times the limit is
     * not read; the connection is closed instead.
     */
    private ApiProblem tooLarge(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        long budget = config.maxBodyBytes() * DRAIN_FACTOR;
        if (declared <= budget) {
            try (InputStream in = ctx.req().getInputStream()) {
                byte[] sink = new byte[8192];
                long left = budget;
                for (int n; left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) != -1; ) {
                    left -= n;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("Could not drain an oversized body: {}", e.toString());
            }
        }
        return tooLarge();
    }

    private ApiProblem tooLarge() {
        return new ApiProblem(413, "payload_too_large", "The request body is larger than " + config.maxBodyBytes() + " bytes");
    }

    private static void requireJsonContentType(String contentType) {
        if (contentType == null) {
            throw unsupported();
        }
        String[] parts = contentType.split(";");
        String type = parts[0].trim().toLowerCase(Locale.ROOT);
        boolean json = type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
        if (!json) {
            throw unsupported();
        }
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].trim().split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("charset")
                    && !kv[1].trim().replace("\"", "").equalsIgnoreCase("utf-8")) {
                throw unsupported();
            }
        }
    }

    private static ApiProblem unsupported() {
        return new ApiProblem(415, "unsupported_media_type", "The request body must be application/json (UTF-8)");
    }
}
