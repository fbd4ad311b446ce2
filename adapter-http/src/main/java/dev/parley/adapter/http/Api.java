package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.WireEnum;
import dev.parley.chat.port.in.AgentAdmin;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.UpdateThreadCommand;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.TraceSpan;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** The routes of the HTTP contract, their guard (request id, CORS, auth, rate limit, errors) and their handlers. */
final class Api {
    static final String BASE = "/api/v1";
    static final String REQUEST_ID_HEADER = "X-Request-Id";
    /** The request attribute holding how its route writes errors (an event stream that fails before it opens answers with it). */
    static final String ERROR_WRITER = "parley.errorWriter";
    private static final Logger LOG = LoggerFactory.getLogger(Api.class);
    private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final List<HandlerType> CATCH_ALL_METHODS = List.of(
            HandlerType.GET, HandlerType.HEAD, HandlerType.POST, HandlerType.PUT, HandlerType.PATCH, HandlerType.DELETE,
            HandlerType.OPTIONS);
    private static final String UNMATCHED = "unmatched";
    static final String ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, Accept, Idempotency-Key, Last-Event-ID, X-Request-Id, traceparent";

    private static final HexFormat HEX = HexFormat.of();

    private final ParleyHttp.Config config;
    private final ChatUseCases chat;
    private final Credentials credentials;
    private final Bodies bodies;
    private final ChatFlow flow;
    private final ChatRoutes chatRoutes;
    private final MessageRoutes messageRoutes;
    private final ParleyMetrics metrics;
    /** Probes and scrapes are not traced: they would drown the requests worth a trace. */
    private static final Set<String> UNTRACED = Set.of("/health", "/ready", "/metrics");
    private final RunTracer tracer;
    private final List<Route> routes = new ArrayList<>();

    Api(ParleyHttp.Config config) {
        this.config = config;
        this.chat = config.chat();
        this.metrics = config.metrics();
        this.tracer = config.tracer();
        this.credentials = new Credentials(config.authenticator(), config.rateLimiter());
        this.bodies = new Bodies(config.maxBodyBytes());
        this.flow = new ChatFlow(chat, metrics, config.heartbeatInterval(), config.streamLimits());
        this.chatRoutes = new ChatRoutes(config, flow, bodies);
        this.messageRoutes = new MessageRoutes(chat, bodies);
        if (metrics != null) {
            metrics.watch(chat, config.streamLimits());
        }
    }

    /** Who may call a route. */
    enum Access { PUBLIC, USER }

    /** One request as the handlers see it; {@code caller} is null on public routes. */
    record Call(Context ctx, String requestId, Caller caller) {
        /** The acting user's id; null on public routes. */
        String userId() {
            return caller == null ? null : caller.userId();
        }
    }

    @FunctionalInterface
    interface Endpoint {
        void handle(Call call) throws Exception;
    }

    private record Route(HandlerType method, String path, Pattern pattern) {}

    /** The query parameters of a list page. */
    static final Set<String> PAGE = Set.of("limit", "cursor");
    /** At most this many unknown query parameters are named in one answer. */
    private static final int MAX_NAMED_PARAMETERS = 20;
    private static final Set<String> THREAD_LIST = Set.of("limit", "cursor", "agent_id", "status");
    private static final Set<String> MESSAGE_LIST = Set.of("limit", "cursor", "order");

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
            new AgentRoutes(this, config, admin, credentials, bodies).install(cfg);
        } else {
            route(cfg, HandlerType.GET, BASE + "/agents", Access.PUBLIC, this::listAgents);
            route(cfg, HandlerType.GET, BASE + "/agents/{agent_id}", Access.PUBLIC, this::getAgent);
        }
        route(cfg, HandlerType.POST, BASE + "/threads", Access.USER, this::createThread);
        route(cfg, HandlerType.GET, BASE + "/threads", Access.USER, THREAD_LIST, this::listThreads);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}", Access.USER, this::getThread);
        route(cfg, HandlerType.PATCH, BASE + "/threads/{thread_id}", Access.USER, this::updateThread);
        route(cfg, HandlerType.DELETE, BASE + "/threads/{thread_id}", Access.USER, Set.of("hard"), this::deleteThread);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/messages", Access.USER, MESSAGE_LIST, this::listMessages);
        String message = BASE + "/threads/{thread_id}/messages/{message_id}";
        route(cfg, HandlerType.GET, message, Access.USER, messageRoutes::get);
        route(cfg, HandlerType.PATCH, message, Access.USER, messageRoutes::update);
        route(cfg, HandlerType.DELETE, message, Access.USER, messageRoutes::delete);
        route(cfg, HandlerType.GET, message + "/versions", Access.USER, PAGE, messageRoutes::versions);
        route(cfg, HandlerType.POST, message + "/activate", Access.USER, messageRoutes::activate);
        route(cfg, HandlerType.POST, message + "/edit", Access.USER, chatRoutes::edit);
        route(cfg, HandlerType.POST, message + "/regenerate", Access.USER, chatRoutes::regenerate);
        route(cfg, HandlerType.POST, BASE + "/threads/{thread_id}/chat", Access.USER, call -> chatRoutes.chat(call, false));
        route(cfg, HandlerType.DELETE, BASE + "/threads/{thread_id}/chat", Access.USER, this::cancelActive);
        route(cfg, HandlerType.POST, BASE + "/chat", Access.USER, call -> chatRoutes.chat(call, true));
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/runs", Access.USER, PAGE, this::listRuns);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/runs/{run_id}", Access.USER, this::getRun);
        route(cfg, HandlerType.POST, BASE + "/threads/{thread_id}/runs/{run_id}/cancel", Access.USER, this::cancelRun);
        route(cfg, HandlerType.GET, BASE + "/threads/{thread_id}/runs/{run_id}/events", Access.USER, chatRoutes::events);
        route(cfg, HandlerType.POST, BASE + "/threads/{thread_id}/runs/{run_id}/approvals", Access.USER, this::decide);
        new UsageRoutes(this, config).install(cfg);

        WsEndpoint ws = new WsEndpoint(config, credentials, flow);
        route(cfg, HandlerType.GET, BASE + "/ws", Access.PUBLIC, call -> {
            throw new ApiProblem(426, "upgrade_required", "This endpoint speaks WebSocket only").header("Upgrade", "websocket");
        });
        cfg.routes.wsBeforeUpgrade(BASE + "/ws", new WsOrigins(config.webSocketOrigins())::beforeUpgrade);
        cfg.routes.ws(BASE + "/ws", ws::configure);
        cfg.events.serverStopping(ws::shutdown);
        cfg.events.serverStopping(chatRoutes::shutdown);

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
        route(cfg, method, path, access, Set.of(), endpoint);
    }

    /**
     * A route that reads the query parameters {@code query}; any other is 400 {@code invalid_parameter}
     * naming it, before the handler acts (a misspelt {@code ?hard_delete=true} never soft-deletes).
     */
    void route(JavalinConfig cfg, HandlerType method, String path, Access access, Set<String> query, Endpoint endpoint) {
        Pattern pattern = Pattern.compile(path.replaceAll("\\{[^/]+}", "[^/]+"));
        Endpoint checked = call -> {
            requireKnownParameters(call.ctx(), query);
            endpoint.handle(call);
        };
        routes.add(new Route(method, path, pattern));
        cfg.routes.addHttpHandler(method, path, guard(path, access, checked));
        if (method == HandlerType.GET) {
            routes.add(new Route(HandlerType.HEAD, path, pattern));
            cfg.routes.addHttpHandler(HandlerType.HEAD, path, guard(path, access, checked));
        }
    }

    /** 400 {@code invalid_parameter} with one field error per query parameter not in {@code known}. */
    static void requireKnownParameters(Context ctx, Set<String> known) {
        List<FieldError> unknown = new ArrayList<>();
        for (String name : new java.util.TreeSet<>(ctx.queryParamMap().keySet())) {
            if (!known.contains(name) && unknown.size() < MAX_NAMED_PARAMETERS) {
                String shown = name.length() > 100 ? name.substring(0, 100) : name;
                unknown.add(new FieldError(Requests.textProblem(shown) == null ? shown : "?", "is not a parameter of this route"));
            }
        }
        if (!unknown.isEmpty()) {
            String detail = unknown.size() == 1 ? "Unknown query parameter: " + unknown.get(0).field()
                    : "Unknown query parameters: " + String.join(", ", unknown.stream().map(FieldError::field).toList());
            throw new ApiProblem(400, "invalid_parameter", detail, unknown);
        }
    }

    /**
     * Wraps the handler of route template {@code uri}: request id (header and log MDC), CORS,
     * authentication, rate limit, problem+json for every error, and the request's metrics.
     */
    Handler guard(String uri, Access access, Endpoint endpoint) {
        return guard(uri, access, endpoint, Api::sendProblem);
    }

    /** {@link #guard(String, Access, Endpoint)} with errors written by {@code errorWriter} (another wire shape). */
    Handler guard(String uri, Access access, Endpoint endpoint, java.util.function.BiConsumer<Context, ApiProblem> errorWriter) {
        boolean traced = !UNTRACED.contains(uri);
        return ctx -> {
            long started = System.nanoTime();
            String requestId = requestId(ctx.header(REQUEST_ID_HEADER));
            TraceSpan span = traced ? tracer.request(ctx.method().name(), uri, requestId, ctx.header("traceparent")) : TraceSpan.NONE;
            try (TraceSpan.Scope scope = span.makeCurrent()) {
                guarded(ctx, uri, access, endpoint, requestId, errorWriter);
            } finally {
                if (metrics != null) {
                    metrics.request(ctx.method().name(), uri, ctx.res().getStatus(), System.nanoTime() - started);
                }
                if (span != TraceSpan.NONE) {
                    tracer.requestAnswered(span, ctx.res().getStatus());
                    span.end();
                }
            }
        };
    }

    private void guarded(Context ctx, String uri, Access access, Endpoint endpoint, String requestId,
                         java.util.function.BiConsumer<Context, ApiProblem> errorWriter) {
        MDC.put("request_id", requestId);
        try {
            ctx.attribute(ERROR_WRITER, errorWriter);
            ctx.header(REQUEST_ID_HEADER, requestId);
            cors(ctx);
            Caller caller = null;
            if (access == Access.USER) {
                caller = credentials.authenticate(ctx.header("Authorization"));
                credentials.rateLimit(caller.userId());
            }
            endpoint.handle(new Call(ctx, requestId, caller));
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
            errorWriter.accept(ctx, problem);
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
        if (!ctx.res().isCommitted()) {
            ctx.res().resetBuffer(); // a body written before the failure is replaced, as a result would be
        }
        Json.respond(ctx, problem.body());
    }

    static void json(Call call, int status, JsonNode body) {
        call.ctx().status(status);
        call.ctx().contentType("application/json");
        Json.respond(call.ctx(), body);
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
        } catch (IdentityProviderUnavailableException e) {
            LOG.warn("Not ready (request {}): {}", call.requestId(), e.getMessage());
            throw new ApiProblem(503, "unavailable", "The service is not ready: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("Not ready (request {}): {}", call.requestId(), e.toString());
            throw new ApiProblem(503, "unavailable", "The service is not ready; retry later");
        }
        json(call, 200, Json.object().put("status", "ready"));
    }

    // ---- metrics ----

    private void metrics(Call call) {
        Credentials.requireMetricsToken(call.ctx().header("Authorization"), config.metricsToken());
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
        Requests.CreateThread req = Requests.createThread(bodies.read(call.ctx()));
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
        String status = call.ctx().queryParam("status");
        if (status != null && !status.equals("active") && !status.equals("deleted")) {
            throw ApiProblem.parameter("status", "must be active or deleted");
        }
        if ("deleted".equals(status)) {
            if (agentId != null) {
                throw ApiProblem.parameter("agent_id", "is not a filter of the trash (status=deleted)");
            }
            json(call, 200, Wire.page(chat.listDeletedThreads(call.userId(), Bodies.page(call.ctx())), Wire::thread));
            return;
        }
        json(call, 200, Wire.page(chat.listThreads(call.userId(), agentId, Bodies.page(call.ctx())), Wire::thread));
    }

    private void getThread(Call call) {
        json(call, 200, Wire.thread(chat.getThread(call.userId(), threadId(call))));
    }

    private void updateThread(Call call) {
        ThreadId id = threadId(call);
        Requests.UpdateThread req = Requests.updateThread(bodies.read(call.ctx()));
        var thread = chat.updateThread(new UpdateThreadCommand(call.userId(), id,
                Optional.ofNullable(req.title()), Optional.ofNullable(req.metadata())));
        json(call, 200, Wire.thread(thread));
    }

    private void deleteThread(Call call) {
        ThreadId id = threadId(call);
        boolean hard = Bodies.booleanParam(call.ctx(), "hard");
        chat.deleteThread(call.userId(), id, hard);
        call.ctx().status(204);
    }

    private void listMessages(Call call) {
        ThreadId id = threadId(call);
        PageRequest page = Bodies.page(call.ctx());
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
        // a run waiting for approval shows what it waits on (at most a few per thread: they are active runs)
        json(call, 200, Wire.page(chat.listRuns(call.userId(), id, Bodies.page(call.ctx())), r -> Wire.run(r,
                r.status() == RunStatus.REQUIRES_ACTION ? chat.getRun(call.userId(), id, r.id()).pendingApprovals() : List.of())));
    }

    private void getRun(Call call) {
        ThreadId thread = threadId(call);
        RunId run = runId(call);
        var outcome = chat.getRun(call.userId(), thread, run);
        json(call, 200, Wire.runWithSteps(outcome, chat.price(outcome.run().model()).orElse(null)));
    }

    private void cancelRun(Call call) {
        ThreadId thread = threadId(call);
        RunId run = runId(call);
        json(call, 200, Wire.run(chat.cancelRun(call.userId(), thread, run)));
    }

    private void decide(Call call) {
        ThreadId thread = threadId(call);
        RunId run = runId(call);
        Requests.Approval approval = Requests.approval(bodies.read(call.ctx()));
        RunOutcome outcome = chat.decide(new ApprovalCommand(call.userId(), thread, run, approval.toolCallId(),
                approval.decision(), approval.reason()));
        json(call, 200, Wire.runWithSteps(outcome, chat.price(outcome.run().model()).orElse(null)));
    }

    private void cancelActive(Call call) {
        json(call, 200, Wire.run(chat.cancelActiveRun(call.userId(), threadId(call))));
    }

    // ---- path parameters ----

    static ThreadId threadId(Call call) {
        return Ids.thread(call.ctx().pathParam("thread_id"));
    }

    static RunId runId(Call call) {
        return Ids.run(call.ctx().pathParam("run_id"));
    }
}
