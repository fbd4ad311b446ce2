package dev.parley.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.ParleyHttp;
import dev.parley.adapter.openai.compat.OpenAiCompat;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.openai.OpenAiChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import io.javalin.Javalin;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.LifeCycle;

/**
 * The server under test: one Javalin app per store, each serving Parley's HTTP API over a
 * {@link ChatService} with the cost-free {@link BenchModel} (or, for the {@code openai} app, the
 * OpenAI adapter pointed at a fake model server), plus routes of the harness:
 * <ul>
 *   <li>{@code GET /bench/stats}: server-side first-event timings ({@link ServerTimings}), heap and RSS;</li>
 *   <li>{@code POST /bench/gc}: heap in use after a full collection, and RSS;</li>
 *   <li>{@code GET /bare/sse}: the baseline, a trivial handler that answers one event frame;</li>
 *   <li>{@code POST /bare/idle-sse}: the baseline of an idle stream ({@link BareIdleStream});</li>
 *   <li>{@code POST /bare/threads/{id}/chat}: the bare JDBC limit ({@link BareChat}), on database stores.</li>
 * </ul>
 * Run as a child process by the load generators ({@code java -cp benchmarks.jar
 * dev.parley.benchmarks.BenchServer --stores=memory,h2 --bare}); prints one line
 * {@code READY {"memory":port,...}} when it listens. Rate limiting is off (every client is a
 * different user anyway), and so are the limits of executing runs and of streams per user (the
 * scenarios hold thousands at once); tokens are HS256 JWTs ({@link Tokens}).
 */
public final class BenchServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String AGENT = "assistant";
    static final int ACCEPT_QUEUE = 4096;

    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final List<AutoCloseable> resources = new ArrayList<>();

    /**
     * Options: which stores, the heartbeat interval, the bare routes, an OpenAI-compatible model server, and whether
     * the cost-free model is the {@linkplain BenchModel#asynchronous() asynchronous} one ({@code --model=async}, the
     * default, as the models Parley ships are) or one that holds its run's thread while it works
     * ({@code --model=blocking}, as a model implementing only {@code ChatModel.complete} does).
     */
    public record Options(List<Databases.Kind> stores, boolean bare, Duration heartbeat, String openAiBaseUrl, int poolSize,
                          boolean asyncModel) {
        public Options(List<Databases.Kind> stores, boolean bare, Duration heartbeat, String openAiBaseUrl, int poolSize) {
            this(stores, bare, heartbeat, openAiBaseUrl, poolSize, true);
        }

        public static Options parse(String[] args) {
            List<Databases.Kind> stores = new ArrayList<>();
            boolean bare = false;
            Duration heartbeat = Duration.ofSeconds(15);
            String openAi = null;
            int pool = 10;
            boolean asyncModel = true;
            for (String arg : args) {
                if (arg.startsWith("--stores=")) {
                    for (String s : arg.substring(9).split(",")) {
                        if (!s.isBlank()) {
                            stores.add(Databases.Kind.parse(s.trim()));
                        }
                    }
                } else if (arg.equals("--bare")) {
                    bare = true;
                } else if (arg.startsWith("--heartbeat-ms=")) {
                    heartbeat = Duration.ofMillis(Long.parseLong(arg.substring(15)));
                } else if (arg.startsWith("--openai=")) {
                    openAi = arg.substring(9);
                } else if (arg.startsWith("--pool=")) {
                    pool = Integer.parseInt(arg.substring(7));
                } else if (arg.startsWith("--model=")) {
                    asyncModel = modelForm(arg.substring(8));
                } else {
                    throw new IllegalArgumentException("unknown option " + arg);
                }
            }
            return new Options(stores, bare, heartbeat, openAi, pool, asyncModel);
        }

        /** {@code async} or {@code blocking}: true for the asynchronous model. */
        public static boolean modelForm(String form) {
            return switch (form) {
                case "async" -> true;
                case "blocking" -> false;
                default -> throw new IllegalArgumentException("--model is async or blocking, not " + form);
            };
        }
    }

    public static void main(String[] args) throws Exception {
        BenchServer server = start(Options.parse(args));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "bench-server-shutdown"));
        System.out.println("READY " + JSON.writeValueAsString(server.ports()));
        System.out.flush();
        // run until the parent closes our stdin or kills us
        while (System.in.read() >= 0) {
            // ignore input
        }
        server.close();
        System.exit(0);
    }

    /** Starts every app of {@code options} on ephemeral ports. */
    public static BenchServer start(Options options) {
        BenchServer server = new BenchServer();
        try {
            for (Databases.Kind kind : options.stores()) {
                Databases.Database db = Databases.open(kind, options.poolSize());
                server.resources.add(db);
                ChatStore store = db.chatStore();
                BareChat bare = options.bare() && db.dataSource() != null
                        ? new BareChat(db.dataSource(), kind == Databases.Kind.POSTGRES, Tokens.authenticator()) : null;
                server.ports.put(kind.name().toLowerCase(java.util.Locale.ROOT), server.app(store, options.asyncModel() ? BenchModel.asynchronous() : new BenchModel(), options, bare));
            }
            if (options.openAiBaseUrl() != null) {
                ChatModel model = OpenAiChatModel.builder().baseUrl(options.openAiBaseUrl()).model("fake-model")
                        .maxRetries(0).build();
                server.ports.put("openai", server.app(InMemoryAdapters.store(), model, options, null));
            }
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private int app(ChatStore store, ChatModel model, Options options, BareChat bare) {
        ChatService chat = ChatService.builder()
                .store(store)
                .model(model)
                .agents(List.of(Agent.builder(AGENT).name("Assistant").description("Answers benchmarks").instructions("You are a benchmark.").build()))
                // the scenarios hold thousands of runs and streams at once: no admission or stream limit (scenario 10 measures admission)
                .maxExecutingRuns(Integer.MAX_VALUE)
                .build();
        resources.add(chat);
        ParleyHttp.Config config = ParleyHttp.config(chat, Tokens.authenticator())
                .rateLimitPerMinute(0)
                .maxStreamsPerUser(0)
                .heartbeatInterval(options.heartbeat())
                .build();
        ServerTimings timings = new ServerTimings();
        Javalin app = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            // thousands of clients connect at once in the idle-streams scenario: a deep accept queue
            cfg.jetty.modifyServer(server -> server.addEventListener(new LifeCycle.Listener() {
                @Override
                public void lifeCycleStarting(LifeCycle event) {
                    for (Connector connector : server.getConnectors()) {
                        if (connector instanceof ServerConnector serverConnector) {
                            serverConnector.setAcceptQueueSize(ACCEPT_QUEUE);
                        }
                    }
                }
            }));
            cfg.jetty.modifyServletContextHandler(handler ->
                    handler.addFilter(new FilterHolder(timings), "/*", EnumSet.of(DispatcherType.REQUEST)));
            ParleyHttp.install(cfg, config);
            OpenAiCompat.install(cfg, config);
            cfg.routes.get("/bench/stats", ctx -> {
                ObjectNode o = timings.snapshot(JSON.createObjectNode());
                o.put("heap_used", Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory());
                o.put("rss", Jdk.rssBytes());
                o.put("threads", Thread.activeCount());
                ctx.contentType("application/json").result(JSON.writeValueAsString(o));
            });
            cfg.routes.post("/bench/gc", ctx -> {
                ObjectNode o = JSON.createObjectNode();
                o.put("heap_after_gc", Jdk.heapAfterGc());
                o.put("rss", Jdk.rssBytes());
                ctx.contentType("application/json").result(JSON.writeValueAsString(o));
            });
            cfg.routes.get("/bare/sse", ctx -> {
                ctx.res().setStatus(200);
                ctx.res().setContentType("text/event-stream;charset=utf-8");
                ServletOutputStream out = ctx.res().getOutputStream();
                out.flush();
                out.write(("id: 1\nevent: token\ndata: {\"type\":\"token\",\"seq\":1,\"content\":\"" + BenchModel.TOKEN
                        + "\"}\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            });
            if (bare != null) {
                bare.install(cfg);
            }
            new BareIdleStream(Tokens.authenticator(), options.heartbeat()).install(cfg);
        });
        app.start("127.0.0.1", 0);
        resources.add(app::stop);
        return app.port();
    }

    /** The port of each app, by store name ({@code memory}, {@code h2}, {@code postgres}, {@code openai}). */
    public Map<String, Integer> ports() {
        return Collections.unmodifiableMap(ports);
    }

    @Override
    public void close() {
        List<AutoCloseable> reversed;
        synchronized (resources) {
            reversed = new ArrayList<>(resources);
            resources.clear();
        }
        Collections.reverse(reversed);
        for (AutoCloseable r : reversed) {
            try {
                r.close();
            } catch (Exception e) {
                System.err.println("closing " + r + " failed: " + e.getMessage());
            }
        }
    }
}
