package dev.parley.examples;

import dev.parley.adapter.http.Authenticator;
import dev.parley.adapter.http.JwtAuthenticator;
import dev.parley.adapter.http.OidcAuthenticator;
import dev.parley.adapter.http.ParleyHttp;
import dev.parley.adapter.openai.compat.OpenAiCompat;
import dev.parley.adapter.http.ParleyMetrics;
import dev.parley.adapter.http.RateLimiter;
import dev.parley.adapter.http.SecurityHeaders;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.adapter.mcp.McpServerConfig;
import dev.parley.adapter.mcp.McpTools;
import dev.parley.adapter.openai.OpenAiChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.RunObserver;
import dev.parley.chat.port.out.Tool;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import javax.sql.DataSource;
import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Parley demo server: the HTTP API of the project's contract, the web chat page at {@code /}
 * and a dev login, over the JDBC store (H2 file database by default) and the built-in
 * deterministic {@link DemoChatModel} (or a real model through an OpenAI-compatible server).
 * Configured by environment variables ({@link DemoConfig}). Everything is wired here, in one
 * visible place:
 * <pre>{@code
 * try (DemoServer server = DemoServer.start(DemoConfig.fromEnvironment(System.getenv()))) {
 *     System.out.println("open " + server.url());
 * }
 * }</pre>
 */
public final class DemoServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DemoServer.class);

    private final List<AutoCloseable> resources;
    private final Javalin app;

    private DemoServer(Javalin app, List<AutoCloseable> resources) {
        this.app = app;
        this.resources = resources;
    }

    /** Runs the demo server until the JVM is stopped; exits with status 2 on a bad setting, 1 when it cannot start. */
    public static void main(String[] args) {
        DemoConfig config;
        try {
            config = DemoConfig.fromEnvironment(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("parley-demo: " + e.getMessage());
            System.exit(2);
            return;
        }
        DemoLogging.apply(config.observability());
        DemoServer server;
        try {
            server = start(config);
        } catch (RuntimeException e) {
            LOG.error("The demo server could not start: {}", describe(e));
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "parley-demo-shutdown"));
    }

    /** Wires and starts a demo server for {@code config}; close it to stop. */
    public static DemoServer start(DemoConfig config) {
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            LOG.info("Starting the Parley demo: {}", config);
            // closed last: the spans of the servers' last work are exported when everything else stopped
            DemoTracing tracing = DemoTracing.start(config.observability());
            resources.add(tracing);
            var store = JdbcChatStores.builder().url(config.dbUrl()).credentials(config.dbUser(), config.dbPassword())
                    .maxPoolSize(config.dbPoolSize()).build();
            resources.add(store);

            List<Tool> mcpTools = List.of();
            java.util.function.Supplier<List<Tool>> mcpToolSource = List::of;
            if (!config.mcpServers().isEmpty()) {
                McpTools mcp = McpTools.builder().servers(config.mcpServers()).start();
                resources.add(mcp);
                // the built-in agent mcp has the tools offered at start; stored agents may name any tool the servers offer now
                mcpTools = mcp.tools();
                mcpToolSource = mcp::tools;
                for (McpServerConfig server : config.mcpServers()) {
                    LOG.info("MCP server {}: {}", server.name(), mcp.isConnected(server.name())
                            ? mcp.tools(server.name()).size() + " tools" : mcp.problem(server.name()).orElse("not connected"));
                }
            }
            ChatModel model = model(config);
            Clock clock = Clock.systemUTC();
            PrometheusMeterRegistry registry = config.metrics() ? meterRegistry(resources) : null;
            ParleyMetrics metrics = registry == null ? null : ParleyMetrics.of(registry);
            // its event bus is built over the store: the database's hints wake readers of runs on other servers
            ChatService chat = ChatService.builder()
                    .observer(metrics == null ? RunObserver.NONE : metrics)
                    .tracer(tracing.tracer())
                    .store(store)
                    .model(model)
                    .agents(DemoAgents.agents(config.usesOpenAi() ? config.model() : null, clock, mcpTools))
                    .toolSource(mcpToolSource)
                    .defaultAgent(DemoAgents.ASSISTANT)
                    .prices(prices(config))
                    .monthlyBudgetUsd(config.userBudgetUsd())
                    .trashRetention(config.trashRetention())
                    .eventLogRetention(config.eventLogRetention().isZero() ? null : config.eventLogRetention())
                    .runLease(config.runLease())
                    .livenessGrace(config.livenessGrace())
                    .maxActiveRunsPerUser(config.limits().maxActiveRunsPerUser())
                    .maxExecutingRuns(config.limits().maxExecutingRuns())
                    .build();
            resources.add(chat);

            OidcAuthenticator oidc = null;
            byte[] secret = null;
            Authenticator authenticator;
            SecurityHeaders.Builder headers = SecurityHeaders.builder().wholeApp(true).behindTls(config.behindTls());
            if (config.oidc() != null) {
                // discovered now, or retried in the background while requests answer 503 and /ready says why
                oidc = config.oidc().authenticator();
                resources.add(oidc);
                authenticator = oidc;
                // the page exchanges its authorization code at the provider's token endpoint
                headers.pageConnectSources(config.oidc().issuerOrigin());
                LOG.info("Tokens of the identity provider {} are accepted ({})", config.oidc().issuer(),
                        oidc.isReady() ? "discovered" : "not reachable yet: retrying in the background");
                if (config.jwtSecret() != null) {
                    LOG.warn("PARLEY_JWT_SECRET is ignored with PARLEY_OIDC_ISSUER: only the provider's tokens are accepted");
                }
            } else {
                secret = secret(config);
                authenticator = JwtAuthenticator.hs256(secret).build();
            }
            ParleyHttp.Config.Builder http = ParleyHttp.config(chat, authenticator)
                    .rateLimitPerMinute(config.rateLimitPerMinute())
                    .maxStreamsPerUser(config.limits().maxStreamsPerUser())
                    // the page and the dev login get the headers too, the page its strict CSP
                    .securityHeaders(headers.build())
                    .tracer(tracing.tracer());
            if (oidc != null) {
                OidcAuthenticator provider = oidc;
                http.readinessCheck(() -> {
                    provider.checkReady();
                    chat.checkReady();
                });
            }
            if (config.rateLimitPerMinute() > 0 && config.rateLimitStore().equals(DemoConfig.RATE_LIMIT_IN_POSTGRES)) {
                http.rateLimiter(RateLimiter.postgresql(rateLimitPool(config, resources), config.rateLimitPerMinute()));
                LOG.info("Rate limits are counted in PostgreSQL, shared by every server on the database");
            }
            if (metrics != null) {
                http.metrics(metrics);
                if (config.metricsToken() == null) {
                    http.metricsEndpoint(registry::scrape);
                } else {
                    http.metricsEndpoint(registry::scrape, config.metricsToken());
                }
            }
            if (!config.corsOrigins().isEmpty()) {
                String[] origins = config.corsOrigins().toArray(String[]::new);
                http.corsOrigins(origins).webSocketOrigins(origins);
            }
            ParleyHttp.Config httpConfig = http.build();
            DevLogin devLogin = config.devLogin() ? new DevLogin(secret, clock) : null;
            OidcLogin oidcLogin = oidc != null && config.oidc().clientId() != null ? new OidcLogin(config.oidc(), oidc) : null;

            Javalin app = Javalin.create(cfg -> {
                cfg.concurrency.useVirtualThreads = true;
                cfg.startup.showJavalinBanner = false;
                cfg.staticFiles.add("/web", Location.CLASSPATH);
                ParleyHttp.acceptUnusualPaths(cfg);
                ParleyHttp.problemErrors(cfg);
                ParleyHttp.requestHeaderTimeout(cfg, httpConfig.requestHeaderTimeout());
                ParleyHttp.install(cfg, httpConfig);
                OpenAiCompat.install(cfg, httpConfig);
                if (devLogin != null) {
                    devLogin.install(cfg);
                }
                if (oidcLogin != null) {
                    oidcLogin.install(cfg);
                }
            });
            app.start(config.port());
            resources.add(app::stop);
            DemoServer server = new DemoServer(app, resources);
            if (!config.devLogin() && oidc == null) {
                LOG.info("Dev login is off (PARLEY_DEV_LOGIN=false): clients need a token signed with PARLEY_JWT_SECRET");
            }
            LOG.info("Parley demo is running: open {}", server.url());
            return server;
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        }
    }

    /** The port the server listens on (the actual one when configured with 0). */
    public int port() {
        return app.port();
    }

    /** The address of the web page. */
    public String url() {
        return "http://localhost:" + port() + "/";
    }

    /** Stops the HTTP server, the run engine, the event bus and the store, in that order. Idempotent. */
    @Override
    public void close() {
        synchronized (resources) {
            closeAll(resources);
        }
    }

    /** The demo model's own price, and the configured ones (which win). */
    private static Map<String, ModelPrice> prices(DemoConfig config) {
        Map<String, ModelPrice> prices = new HashMap<>(config.usesOpenAi() ? Map.of() : DemoAgents.prices());
        prices.putAll(config.prices());
        return prices;
    }

    private static ChatModel model(DemoConfig config) {
        if (config.usesOpenAi()) {
            LOG.info("Model: {} through the OpenAI-compatible server at {}", config.model(), config.openAiBaseUrl());
            OpenAiChatModel.Builder builder = OpenAiChatModel.builder().baseUrl(config.openAiBaseUrl()).model(config.model())
                    .maxTokensParameter(config.maxTokensParameter());
            if (config.openAiApiKey() != null) {
                builder.apiKey(config.openAiApiKey());
            }
            return builder.build();
        }
        if (System.getenv("PARLEY_MODEL") != null) {
            LOG.warn("PARLEY_MODEL is ignored without OPENAI_BASE_URL: the built-in demo model answers");
        }
        LOG.info("Model: the built-in deterministic demo model ({} ms between tokens)", config.tokenDelay().toMillis());
        return new DemoChatModel(config.tokenDelay());
    }

    /** A Prometheus registry with the JVM's own meters (memory, GC, threads, CPU, uptime) beside Parley's. */
    private static PrometheusMeterRegistry meterRegistry(List<AutoCloseable> resources) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        resources.add(registry::close);
        new JvmMemoryMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        resources.add(gc);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return registry;
    }

    /** A small pool of its own for the rate limit table, so that a burst of requests never waits behind the store. */
    private static DataSource rateLimitPool(DemoConfig config, List<AutoCloseable> resources) {
        HikariConfig pool = new HikariConfig();
        pool.setPoolName("parley-rate-limit");
        pool.setJdbcUrl(config.dbUrl());
        pool.setUsername(config.dbUser().isEmpty() ? null : config.dbUser());
        pool.setPassword(config.dbPassword().isEmpty() ? null : config.dbPassword());
        pool.setMaximumPoolSize(4);
        pool.setConnectionTimeout(1_000);
        pool.setValidationTimeout(500);
        HikariDataSource dataSource = new HikariDataSource(pool);
        resources.add(dataSource);
        return dataSource;
    }

    private static byte[] secret(DemoConfig config) {
        if (config.jwtSecret() != null) {
            return config.jwtSecret().getBytes(StandardCharsets.UTF_8);
        }
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        LOG.warn("PARLEY_JWT_SECRET is not set: generated a random secret for this run;"
                + " tokens stop working when the server restarts");
        return random;
    }

    private static void closeAll(List<AutoCloseable> resources) {
        List<AutoCloseable> reversed = new ArrayList<>(resources);
        Collections.reverse(reversed);
        resources.clear();
        for (AutoCloseable resource : reversed) {
            try {
                resource.close();
            } catch (Exception e) {
                LOG.warn("Stopping {} failed: {}", resource, describe(e));
            }
        }
    }

    private static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            if (cause.getMessage() != null) {
                text.append(": ").append(cause.getMessage());
            }
        }
        return text.toString();
    }
}
