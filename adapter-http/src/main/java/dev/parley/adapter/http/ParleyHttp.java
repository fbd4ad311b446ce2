package dev.parley.adapter.http;

import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.out.RunTracer;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import java.time.Duration;
import org.eclipse.jetty.http.UriCompliance;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The Parley HTTP API (REST, server-sent events and WebSocket, as in the project's HTTP contract)
 * on Javalin 7, talking only to {@link ChatUseCases}.
 *
 * <p>Mount it on your own Javalin app:
 * <pre>{@code
 * ParleyHttp.Config config = ParleyHttp.config(chatService, JwtAuthenticator.hs256(secret).build()).build();
 * Javalin app = Javalin.create(cfg -> {
 *     cfg.concurrency.useVirtualThreads = true;   // used when the JVM has them
 *     ParleyHttp.install(cfg, config);
 *     cfg.routes.get("/hello", ctx -> ctx.result("your own routes live beside it"));
 * }).start(8080);
 * }</pre>
 * or run it alone with {@link #start(Config, int)}. The API owns {@code /api/v1/*} (unknown paths
 * there answer problem+json 404/405), {@code /health}, {@code /ready}, {@code /openapi.json} and
 * {@code /docs}.
 */
public final class ParleyHttp {
    private ParleyHttp() {}

    /** Starts building a configuration; every other setting has a default. */
    public static Config.Builder config(ChatUseCases chat, Authenticator authenticator) {
        return new Config.Builder(chat, authenticator);
    }

    /** Registers every route, the WebSocket endpoint and their error handling on an embedder's Javalin config. */
    public static void install(JavalinConfig cfg, Config config) {
        Objects.requireNonNull(cfg, "cfg");
        Objects.requireNonNull(config, "config");
        config.securityHeaders().install(cfg, false, config.metricsScrape() != null);
        new Api(config).install(cfg, false);
    }

    /**
     * A Javalin app that serves only this API (virtual threads when the JVM has them, problem+json
     * 404/405 for every unknown path), not yet started.
     */
    public static Javalin create(Config config) {
        Objects.requireNonNull(config, "config");
        return Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            acceptUnusualPaths(cfg);
            problemErrors(cfg);
            requestHeaderTimeout(cfg, config.requestHeaderTimeout());
            config.securityHeaders().install(cfg, true, config.metricsScrape() != null);
            new Api(config).install(cfg, true);
        });
    }

    /**
     * Lets paths with encoded slashes, dot segments or control characters reach the routes (which
     * answer them with a problem+json 404) instead of Jetty's own HTML 400. Optional for embedders.
     */
    public static void acceptUnusualPaths(JavalinConfig cfg) {
        cfg.jetty.modifyHttpConfiguration(http -> http.setUriCompliance(UriCompliance.LEGACY));
        cfg.jetty.modifyServletContextHandler(handler -> handler.getServletHandler().setDecodeAmbiguousURIs(true));
    }

    /**
     * Makes the errors Jetty answers by itself, before any route sees the request (a NUL or bad
     * UTF-8 in the path, oversized headers, a malformed request line), problem+json with a stable
     * {@code code} instead of Jetty's HTML page. Applies to the whole server, so it is optional for
     * embedders; {@link #create(Config)} always does it.
     */
    public static void problemErrors(JavalinConfig cfg) {
        cfg.jetty.modifyServer(server -> server.setErrorHandler(new ProblemErrorHandler()));
        cfg.jetty.modifyServletContextHandler(handler -> handler.setErrorHandler(new ProblemErrorHandler()));
        // every other 404 and 405 (a path no route or static file serves) as problem+json too
        for (int status : new int[] {404, 405}) {
            cfg.routes.error(status, "*", ctx -> {
                String type = ctx.res().getContentType();
                // a JSON error a route wrote itself (such as the OpenAI-compatible facade's) stays as written
                if (type == null || !(type.startsWith("application/problem+json") || type.startsWith("application/json"))) {
                    ctx.header(Api.REQUEST_ID_HEADER, Api.requestId(ctx.header(Api.REQUEST_ID_HEADER)));
                    Api.sendProblem(ctx, ProblemErrorHandler.problem(status));
                }
            });
        }
    }

    /**
     * Closes connections that have not sent a complete request head within {@code timeout} of opening
     * (clients that open sockets and send nothing, or trickle a byte at a time, hold none longer). Applies
     * to the whole server, so it is optional for embedders; {@link #create(Config)} always does it with
     * {@link Config#requestHeaderTimeout()}.
     */
    public static void requestHeaderTimeout(JavalinConfig cfg, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        cfg.jetty.modifyServer(server -> RequestHeaderTimeout.install(server, timeout));
    }

    /** {@link #create(Config)} started on {@code port} (0 for an ephemeral port; see {@link Javalin#port()}). */
    public static Javalin start(Config config, int port) {
        return create(config).start(port);
    }

    /**
     * Settings of the API. Build with {@link ParleyHttp#config(ChatUseCases, Authenticator)}.
     *
     * @param chat                 the inbound port every route talks to
     * @param authenticator        turns bearer tokens into user ids
     * @param rateLimitPerMinute   requests per user per minute (token bucket; 0 disables), default 120
     * @param maxBodyBytes         largest request body, default 1 MiB (also the largest WebSocket frame)
     * @param maxMessageChars      longest chat message in Unicode code points, default 32,000
     * @param heartbeatInterval    idle time after which a stream gets a heartbeat, default 15 s
     * @param corsOrigins          origins allowed by CORS ({@code *} for any), default none
     * @param webSocketOrigins     browser origins allowed to open the WebSocket ({@code *} for any); a
     *                             request without {@code Origin} or from the server's own host is always allowed
     * @param webSocketAuthTimeout how long an unauthenticated WebSocket stays open, default 10 s
     * @param syncChatTimeout      how long a non-streaming chat waits for its run, default 5 min (the run's first
     *                             model turn, which a sync chat executes on the request's thread, finishes first:
     *                             see {@link ChatUseCases#sendAndAwait(dev.parley.chat.port.in.SendMessageCommand, Duration)})
     * @param readinessCheck       what {@code GET /ready} runs (throws when not ready), default {@link ChatUseCases#checkReady()}
     * @param rateLimiter          the per-user request budget, or null for none; default {@link RateLimiter#inMemory}
     *                             with {@code rateLimitPerMinute}
     * @param metrics              where HTTP metrics go, or null (default) for nowhere
     * @param metricsScrape        what {@code GET /metrics} answers (metrics in the Prometheus text format), or null
     *                             (default) for no such route
     * @param metricsToken         the bearer token {@code GET /metrics} requires, or null (default) for none
     * @param securityHeaders      the browser-facing security headers, default {@link SecurityHeaders#defaults()}
     * @param streamLimits         the open event streams each user may hold on this server (SSE streams and
     *                             authenticated WebSockets), default {@link StreamLimits#perUser} of 32
     * @param maxUnauthenticatedWebSockets the most WebSockets open at once on this server that have not
     *                             authenticated yet (more are closed at once with 1013), default 256
     * @param requestHeaderTimeout how long a new connection may take to send a complete request head before it is
     *                             closed (standalone servers and {@link #requestHeaderTimeout}), default 10 s
     * @param tracer               traces each API request and WebSocket chat as a span (a child of the client's W3C
     *                             {@code traceparent} header when it sends one), default {@link RunTracer#NONE}
     */
    public record Config(ChatUseCases chat, Authenticator authenticator, int rateLimitPerMinute, long maxBodyBytes,
                         int maxMessageChars, Duration heartbeatInterval, Set<String> corsOrigins,
                         Set<String> webSocketOrigins, Duration webSocketAuthTimeout, Duration syncChatTimeout,
                         Runnable readinessCheck, RateLimiter rateLimiter, ParleyMetrics metrics,
                         Supplier<String> metricsScrape, String metricsToken, SecurityHeaders securityHeaders,
                         StreamLimits streamLimits, int maxUnauthenticatedWebSockets, Duration requestHeaderTimeout,
                         RunTracer tracer) {
        public static final int DEFAULT_RATE_LIMIT_PER_MINUTE = 120;
        public static final long DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
        public static final int DEFAULT_MAX_MESSAGE_CHARS = 32_000;

        public Config {
            Objects.requireNonNull(chat, "chat");
            Objects.requireNonNull(authenticator, "authenticator");
            if (rateLimitPerMinute < 0) {
                throw new IllegalArgumentException("rateLimitPerMinute must not be negative");
            }
            if (maxBodyBytes < 1024 || maxBodyBytes > Integer.MAX_VALUE - 1) {
                throw new IllegalArgumentException("maxBodyBytes must be between 1 KiB and 2 GiB");
            }
            if (maxMessageChars < 1) {
                throw new IllegalArgumentException("maxMessageChars must be positive");
            }
            requirePositive(heartbeatInterval, "heartbeatInterval");
            requirePositive(webSocketAuthTimeout, "webSocketAuthTimeout");
            requirePositive(syncChatTimeout, "syncChatTimeout");
            corsOrigins = Set.copyOf(corsOrigins);
            webSocketOrigins = Set.copyOf(webSocketOrigins);
            Objects.requireNonNull(readinessCheck, "readinessCheck");
            if (metricsToken != null && metricsToken.isBlank()) {
                throw new IllegalArgumentException("metricsToken must not be blank");
            }
            Objects.requireNonNull(securityHeaders, "securityHeaders");
            Objects.requireNonNull(streamLimits, "streamLimits");
            if (maxUnauthenticatedWebSockets < 1) {
                throw new IllegalArgumentException("maxUnauthenticatedWebSockets must be positive");
            }
            requirePositive(requestHeaderTimeout, "requestHeaderTimeout");
            tracer = tracer == null ? RunTracer.NONE : tracer;
        }

        private static void requirePositive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
        }

        /** Builder with the documented defaults. */
        public static final class Builder {
            private final ChatUseCases chat;
            private final Authenticator authenticator;
            private int rateLimitPerMinute = DEFAULT_RATE_LIMIT_PER_MINUTE;
            private long maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
            private int maxMessageChars = DEFAULT_MAX_MESSAGE_CHARS;
            private Duration heartbeatInterval = Duration.ofSeconds(15);
            private final Set<String> corsOrigins = new LinkedHashSet<>();
            private final Set<String> webSocketOrigins = new LinkedHashSet<>();
            private Duration webSocketAuthTimeout = Duration.ofSeconds(10);
            private Duration syncChatTimeout = Duration.ofMinutes(5);
            private Runnable readinessCheck;
            private RateLimiter rateLimiter;
            private ParleyMetrics metrics;
            private Supplier<String> metricsScrape;
            private String metricsToken;
            private SecurityHeaders securityHeaders = SecurityHeaders.defaults();
            private StreamLimits streamLimits;
            private int maxStreamsPerUser = StreamLimits.DEFAULT_MAX_PER_USER;
            private int maxUnauthenticatedWebSockets = 256;
            private Duration requestHeaderTimeout = Duration.ofSeconds(10);
            private RunTracer tracer = RunTracer.NONE;

            Builder(ChatUseCases chat, Authenticator authenticator) {
                this.chat = Objects.requireNonNull(chat, "chat");
                this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
            }

            public Builder rateLimitPerMinute(int requests) {
                this.rateLimitPerMinute = requests;
                return this;
            }

            public Builder maxBodyBytes(long bytes) {
                this.maxBodyBytes = bytes;
                return this;
            }

            public Builder maxMessageChars(int codePoints) {
                this.maxMessageChars = codePoints;
                return this;
            }

            public Builder heartbeatInterval(Duration interval) {
                this.heartbeatInterval = interval;
                return this;
            }

            public Builder corsOrigins(String... origins) {
                this.corsOrigins.addAll(Set.of(origins));
                return this;
            }

            public Builder webSocketOrigins(String... origins) {
                this.webSocketOrigins.addAll(Set.of(origins));
                return this;
            }

            public Builder webSocketAuthTimeout(Duration timeout) {
                this.webSocketAuthTimeout = timeout;
                return this;
            }

            public Builder syncChatTimeout(Duration timeout) {
                this.syncChatTimeout = timeout;
                return this;
            }

            public Builder readinessCheck(Runnable check) {
                this.readinessCheck = check;
                return this;
            }

            /**
             * The per-user request budget to use instead of the in-memory one of {@link #rateLimitPerMinute}, e.g.
             * {@link RateLimiter#postgresql} so that servers sharing a database share it.
             */
            public Builder rateLimiter(RateLimiter limiter) {
                this.rateLimiter = Objects.requireNonNull(limiter, "limiter");
                return this;
            }

            /** Records HTTP requests, open streams and store errors on {@code metrics}. */
            public Builder metrics(ParleyMetrics metrics) {
                this.metrics = Objects.requireNonNull(metrics, "metrics");
                return this;
            }

            /** Serves {@code GET /metrics} (no token) with what {@code scrape} returns, e.g. {@code prometheusRegistry::scrape}. */
            public Builder metricsEndpoint(Supplier<String> scrape) {
                this.metricsScrape = Objects.requireNonNull(scrape, "scrape");
                this.metricsToken = null;
                return this;
            }

            /** Serves {@code GET /metrics} to requests that bear {@code token} ({@code Authorization: Bearer <token>}). */
            public Builder metricsEndpoint(Supplier<String> scrape, String token) {
                this.metricsScrape = Objects.requireNonNull(scrape, "scrape");
                this.metricsToken = Objects.requireNonNull(token, "token");
                return this;
            }

            /**
             * The security headers of the API's answers (and, with {@link SecurityHeaders.Builder#wholeApp},
             * of the embedding app's), e.g. {@code SecurityHeaders.builder().behindTls(true).build()} to add HSTS,
             * or {@link SecurityHeaders#off()}. A header the app sets itself is never replaced.
             */
            public Builder securityHeaders(SecurityHeaders headers) {
                this.securityHeaders = Objects.requireNonNull(headers, "headers");
                return this;
            }

            /**
             * The most event streams one user holds open on this server at once (default 32; 0 for no limit): SSE
             * streams of runs and authenticated WebSockets. Past it a stream is refused with 429 {@code too_many_streams}.
             */
            public Builder maxStreamsPerUser(int max) {
                if (max < 0) {
                    throw new IllegalArgumentException("maxStreamsPerUser must not be negative");
                }
                this.maxStreamsPerUser = max;
                this.streamLimits = null;
                return this;
            }

            /**
             * The stream counter to use instead of a new one of {@link #maxStreamsPerUser}: give the same instance to
             * every driving adapter of the server so that one limit covers them all.
             */
            public Builder streamLimits(StreamLimits limits) {
                this.streamLimits = Objects.requireNonNull(limits, "limits");
                return this;
            }

            /** The most WebSockets open at once that have not authenticated yet (default 256). */
            public Builder maxUnauthenticatedWebSockets(int max) {
                this.maxUnauthenticatedWebSockets = max;
                return this;
            }

            /** How long a new connection may take to send its first complete request head (default 10 s). */
            public Builder requestHeaderTimeout(Duration timeout) {
                this.requestHeaderTimeout = timeout;
                return this;
            }

            /** Traces each API request and WebSocket chat as a span, e.g. with the tracer the chat service traces runs with. */
            public Builder tracer(RunTracer tracer) {
                this.tracer = Objects.requireNonNull(tracer, "tracer");
                return this;
            }

            public Config build() {
                RateLimiter limiter = rateLimiter != null ? rateLimiter
                        : rateLimitPerMinute == 0 ? null : RateLimiter.inMemory(rateLimitPerMinute);
                return new Config(chat, authenticator, rateLimitPerMinute, maxBodyBytes, maxMessageChars, heartbeatInterval,
                        corsOrigins, webSocketOrigins, webSocketAuthTimeout, syncChatTimeout,
                        readinessCheck == null ? chat::checkReady : readinessCheck, limiter, metrics, metricsScrape, metricsToken,
                        securityHeaders, streamLimits != null ? streamLimits : StreamLimits.perUser(maxStreamsPerUser),
                        maxUnauthenticatedWebSockets, requestHeaderTimeout, tracer);
            }
        }
    }
}
