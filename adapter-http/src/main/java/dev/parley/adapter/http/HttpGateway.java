package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.SendReceipt;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import jakarta.servlet.http.HttpServletResponse;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What another driving adapter on the same Javalin app (such as an OpenAI-compatible facade) shares
 * with this API instead of copying it: the guard of every route (request id, CORS, bearer token, the
 * per-user rate limit, metrics), body reading with its limits, the mapping of errors to a status and
 * a stable code, and the chat flow: following a run and streaming its events as they are pushed.
 * Only the wire shapes differ: the adapter writes its own frames ({@link ChatFlow.Sink}) and its own
 * error bodies ({@link ErrorWriter}).
 */
public final class HttpGateway {
    private static final String RESERVED_SLOT = "parley.reservedStreamSlot";
    private final ParleyHttp.Config config;
    private final Api api;
    private final ChatRoutes streams;
    private final ChatFlow flow;
    private final Bodies bodies;

    private HttpGateway(ParleyHttp.Config config) {
        this.config = config;
        this.api = new Api(config);
        this.flow = new ChatFlow(config.chat(), config.metrics(), config.heartbeatInterval(), config.streamLimits());
        this.bodies = new Bodies(config.maxBodyBytes());
        this.streams = new ChatRoutes(config, flow, bodies);
    }

    /**
     * A gateway over {@code config} (the same one given to {@link ParleyHttp#install}: its rate limiter,
     * authenticator and metrics are then shared), whose open streams end when the server stops.
     */
    public static HttpGateway install(JavalinConfig cfg, ParleyHttp.Config config) {
        HttpGateway gateway = new HttpGateway(Objects.requireNonNull(config, "config"));
        cfg.events.serverStopping(gateway.streams::shutdown);
        return gateway;
    }

    /** The inbound port. */
    public ChatUseCases chat() {
        return config.chat();
    }

    /** The API's settings (limits, timeouts). */
    public ParleyHttp.Config config() {
        return config;
    }

    /** One request as a handler sees it; {@code caller} is null on public routes. */
    public record Request(Context ctx, String requestId, Caller caller) {
        /** The acting user's id; null on public routes. */
        public String userId() {
            return caller == null ? null : caller.userId();
        }
    }

    /** A route's handler. */
    @FunctionalInterface
    public interface Endpoint {
        void handle(Request request) throws Exception;
    }

    /**
     * A failure as a client may see it: HTTP status, stable code, a message safe to show, field
     * errors, extra members (such as {@code run_id}) and response headers (such as {@code Retry-After}).
     */
    public record Failure(int status, String code, String message, List<FieldError> errors, Map<String, Object> extras,
                          Map<String, String> headers) {
        public Failure {
            errors = List.copyOf(errors);
            extras = Map.copyOf(extras);
            headers = Map.copyOf(headers);
        }
    }

    /** Writes a failure in the adapter's own shape (headers included). */
    @FunctionalInterface
    public interface ErrorWriter {
        void write(Context ctx, Failure failure);
    }

    /**
     * Registers a route guarded exactly as this API's own: with {@code authenticated}, a bearer token
     * and one request from the caller's rate limit before the handler runs; what the guard or the
     * handler throws goes to {@code errors} as a {@link Failure} (unexpected errors are logged and
     * sanitized).
     */
    public void route(JavalinConfig cfg, HandlerType method, String path, boolean authenticated, Endpoint endpoint,
                      ErrorWriter errors) {
        cfg.routes.addHttpHandler(method, path, api.guard(path, authenticated ? Api.Access.USER : Api.Access.PUBLIC,
                call -> {
                    try {
                        endpoint.handle(new Request(call.ctx(), call.requestId(), call.caller()));
                    } finally {
                        // a slot reserved for a stream that did not open (the send failed, or no stream followed)
                        StreamLimits.Slot unused = call.ctx().attribute(RESERVED_SLOT);
                        if (unused != null) {
                            call.ctx().attribute(RESERVED_SLOT, null);
                            unused.close();
                        }
                    }
                },
                (ctx, problem) -> errors.write(ctx, failure(problem))));
    }

    /**
     * Answers a CORS preflight ({@code OPTIONS}) with 204: {@code Allow} with {@code methods}, and for
     * an origin the configuration allows, the methods, the request headers it asks for (SDKs send
     * headers of their own) and a max age. Other origins get no CORS headers, so browsers refuse.
     */
    public void preflight(Context ctx, String methods) {
        ctx.header("Allow", methods);
        String origin = ctx.header("Origin");
        if (api.corsAllows(origin) && ctx.header("Access-Control-Request-Method") != null) {
            String asked = ctx.header("Access-Control-Request-Headers");
            ctx.header("Access-Control-Allow-Origin", config.corsOrigins().contains("*") ? "*" : origin);
            ctx.header("Vary", "Origin");
            ctx.header("Access-Control-Allow-Methods", methods);
            ctx.header("Access-Control-Allow-Headers", asked == null || asked.isBlank() ? Api.ALLOWED_REQUEST_HEADERS
                    : asked.replaceAll("[^A-Za-z0-9, _-]", ""));
            ctx.header("Access-Control-Max-Age", "600");
        }
        ctx.status(204);
    }

    /** What a client may see of {@code error}. */
    public static Failure failure(Throwable error, String requestId) {
        return failure(Errors.toProblem(error, requestId));
    }

    private static Failure failure(ApiProblem problem) {
        return new Failure(problem.status, problem.code, problem.getMessage(), problem.errors, problem.extras, problem.headers);
    }

    /** The request body as a JSON object (empty without a body), with this API's size, media type and syntax rules. */
    public JsonNode readJson(Context ctx) {
        return bodies.read(ctx);
    }

    /** The request's {@code Idempotency-Key}, or null. */
    public static String idempotencyKey(Context ctx) {
        return Bodies.idempotencyKey(ctx.header("Idempotency-Key"));
    }

    /**
     * Following the run a send started, as the chat routes do: a new run from its first event, a retry
     * that joined the original run (same idempotency key) after {@code lastSeenSeq}. Nothing is
     * subscribed until {@link #stream}.
     */
    public ChatFlow.Follow follow(String userId, SendReceipt receipt, long lastSeenSeq, DisconnectPolicy onDisconnect,
                                  String requestId) {
        Requests.Chat options = new Requests.Chat(List.of(), null, null, onDisconnect, Map.of(), null, null, Map.of(), null);
        return flow.follow(userId, receipt, options, lastSeenSeq, requestId);
    }

    /** Following a run of the user's thread from after {@code afterSeq} (0 for all of it). Nothing is subscribed until {@link #stream}. */
    public ChatFlow.Follow follow(Request request, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect) {
        return new ChatFlow.Follow(request.userId(), threadId, runId, afterSeq, onDisconnect, null, request.requestId());
    }

    /**
     * Takes one of the caller's stream slots now, before a send whose run the request will stream: past
     * the per-user limit that every transport of the server shares, it throws ({@code too_many_streams},
     * 429) and nothing is sent. {@link #stream} uses the slot; a route that ends without streaming gives
     * it back.
     */
    public void reserveStream(Request request) {
        if (request.ctx().attribute(RESERVED_SLOT) == null) {
            request.ctx().attribute(RESERVED_SLOT, flow.streamSlot(request.userId()));
        }
    }

    /**
     * Subscribes to the run {@code follow} names and answers the request with its events written by
     * {@code sink}, or 204 when there is none left; the events are pushed to {@code sink} as they come
     * (with heartbeats and the stream metrics), no thread waits for them, and the stream ends the request
     * itself. A failure to subscribe is thrown (and answered as the route's errors are). It holds one of the
     * user's stream slots (the one {@link #reserveStream} took, or one taken now: past the limit,
     * {@code too_many_streams}). Every event stream of an adapter using this gateway opens here.
     */
    public void stream(Request request, ChatFlow.Follow follow, ChatFlow.Sink sink) {
        StreamLimits.Slot slot = request.ctx().attribute(RESERVED_SLOT);
        if (slot != null) {
            request.ctx().attribute(RESERVED_SLOT, null);
        } else {
            slot = flow.streamSlot(request.userId());
        }
        streams.stream(new Api.Call(request.ctx(), request.requestId(), request.caller()), follow, slot, sink);
    }

    /** Sets the status and headers of an event stream ({@code text/event-stream}, no caching, no proxy buffering). */
    public static void eventStreamHeaders(HttpServletResponse res) {
        SseStream.headers(res);
    }
}
