package dev.parley.examples;

import dev.parley.adapter.http.JwtAuthenticator;
import dev.parley.adapter.http.ParleyHttp;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.adapter.openai.OpenAiChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.port.out.ChatModel;
import io.javalin.Javalin;
import io.javalin.http.staticfiles.Location;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
            var store = JdbcChatStores.create(config.dbUrl(), config.dbUser(), config.dbPassword());
            resources.add(store);
            var bus = InMemoryAdapters.eventBus(store.events());
            resources.add(bus);

            ChatModel model = model(config);
            Clock clock = Clock.systemUTC();
            ChatService chat = ChatService.builder()
                    .store(store)
                    .eventBus(bus)
                    .model(model)
                    .agents(DemoAgents.agents(config.usesOpenAi() ? config.model() : null, clock))
                    .defaultAgent(DemoAgents.ASSISTANT)
                    .prices(config.usesOpenAi() ? Map.of() : DemoAgents.prices())
                    .build();
            resources.add(chat);

            byte[] secret = secret(config);
            ParleyHttp.Config.Builder http = ParleyHttp.config(chat, JwtAuthenticator.hs256(secret).build())
                    .rateLimitPerMinute(config.rateLimitPerMinute());
            if (!config.corsOrigins().isEmpty()) {
                String[] origins = config.corsOrigins().toArray(String[]::new);
                http.corsOrigins(origins).webSocketOrigins(origins);
            }
            ParleyHttp.Config httpConfig = http.build();
            DevLogin devLogin = config.devLogin() ? new DevLogin(secret, clock) : null;

            Javalin app = Javalin.create(cfg -> {
                cfg.concurrency.useVirtualThreads = true;
                cfg.startup.showJavalinBanner = false;
                cfg.staticFiles.add("/web", Location.CLASSPATH);
                ParleyHttp.install(cfg, httpConfig);
                if (devLogin != null) {
                    devLogin.install(cfg);
                }
            });
            app.start(config.port());
            resources.add(app::stop);
            DemoServer server = new DemoServer(app, resources);
            if (!config.devLogin()) {
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

    private static ChatModel model(DemoConfig config) {
        if (config.usesOpenAi()) {
            LOG.info("Model: {} through the OpenAI-compatible server at {}", config.model(), config.openAiBaseUrl());
            OpenAiChatModel.Builder builder = OpenAiChatModel.builder().baseUrl(config.openAiBaseUrl()).model(config.model());
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
