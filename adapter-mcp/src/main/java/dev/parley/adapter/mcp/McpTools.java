package dev.parley.adapter.mcp;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.Require;
import dev.parley.chat.port.out.Tool;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Tools from MCP servers as Parley {@link Tool}s: the entry point of this adapter. It connects to each
 * configured server (over stdio or Streamable HTTP), lists its tools and keeps them current on
 * {@code tools/list_changed}; a server that exits, breaks the connection or cannot be reached is
 * reconnected in the background with backoff, and calls made meanwhile fail at once with the reason.
 *
 * <pre>{@code
 * McpTools mcp = McpTools.builder()
 *         .server(McpServerConfig.stdio("files", "npx", List.of("@modelcontextprotocol/server-filesystem", "/srv/docs"), Map.of()))
 *         .server(McpServerConfig.http("crm", URI.create("https://crm.example.com/mcp"), Map.of("Authorization", "Bearer ...")))
 *         .start();
 * ChatService chat = ChatService.builder()...tools(mcp.tools())...build();
 * }</pre>
 *
 * Thread-safe. Close it to stop the servers' processes and connections.
 */
public final class McpTools implements AutoCloseable {
    private final List<McpConnection> connections;
    private final ScheduledExecutorService scheduler;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    private McpTools(Builder builder) {
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parley-mcp-reconnect");
            t.setDaemon(true);
            return t;
        });
        ObjectMapper mapper = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        McpJsonMapper json = new JacksonMcpJsonMapper(mapper);
        List<McpConnection> list = new ArrayList<>();
        for (McpServerConfig config : builder.servers) {
            McpConnection.TransportFactory factory = builder.factories.size() > list.size() && builder.factories.get(list.size()) != null
                    ? builder.factories.get(list.size()) : McpTools::transport;
            list.add(new McpConnection(config, mapper, json, factory, scheduler, builder.connectTimeout, builder.backoffMin,
                    builder.backoffMax, this::toolsChanged));
        }
        this.connections = List.copyOf(list);
    }

    public static Builder builder() {
        return new Builder();
    }

    private static io.modelcontextprotocol.spec.McpClientTransport transport(McpServerConfig config, McpJsonMapper json,
                                                                           java.util.function.Consumer<String> onEnd) throws Exception {
        if (config.isStdio()) {
            return ProcessClientTransport.start(config, json, onEnd);
        }
        URI url = config.url();
        String base = url.getScheme() + "://" + url.getRawAuthority();
        String endpoint = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        if (url.getRawQuery() != null) {
            endpoint += "?" + url.getRawQuery();
        }
        return HttpClientStreamableHttpTransport.builder(base)
                .endpoint(endpoint)
                .jsonMapper(json)
                .connectTimeout(Duration.ofSeconds(10))
                .httpRequestCustomizer((request, method, uri, body, context) -> config.headers().forEach(request::header))
                .build();
    }

    /**
     * The tools every connected server offers now, named {@code <server>_<tool>}, in the order of the
     * servers. The same tool is the same object across refreshes; a tool the server no longer offers
     * fails when called.
     */
    public List<Tool> tools() {
        List<Tool> all = new ArrayList<>();
        for (McpConnection connection : connections) {
            all.addAll(connection.tools());
        }
        return List.copyOf(all);
    }

    /** The tools the server {@code server} offers now; empty when it is not connected or not configured. */
    public List<Tool> tools(String server) {
        return connection(server).map(c -> List.<Tool>copyOf(c.tools())).orElse(List.of());
    }

    /** Whether the server {@code server} is connected now. */
    public boolean isConnected(String server) {
        return connection(server).map(McpConnection::isConnected).orElse(false);
    }

    /** Why the server {@code server} is not connected; empty while it is (or when no such server is configured). */
    public Optional<String> problem(String server) {
        return connection(server).map(McpConnection::problem);
    }

    /** The configured servers, in order. */
    public List<McpServerConfig> servers() {
        return connections.stream().map(McpConnection::config).toList();
    }

    /** Runs {@code listener} whenever the set of tools changes (a server connected, was lost or changed its list). */
    public void onToolsChanged(Runnable listener) {
        listeners.add(Require.notNull(listener, "listener"));
    }

    private void toolsChanged() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException ignored) {
                // one listener's failure is not the others'
            }
        }
    }

    private Optional<McpConnection> connection(String server) {
        return connections.stream().filter(c -> c.config().name().equals(server)).findFirst();
    }

    /** Connects every server at once and waits for them up to the connect timeout; one that fails is retried in the background. */
    private McpTools startAll(Duration wait) {
        List<CompletableFuture<Void>> started = new ArrayList<>();
        for (McpConnection connection : connections) {
            started.add(CompletableFuture.runAsync(connection::connect, runnable -> {
                Thread t = new Thread(runnable, "parley-mcp-connect-" + connection.config().name());
                t.setDaemon(true);
                t.start();
            }));
        }
        try {
            CompletableFuture.allOf(started.toArray(CompletableFuture[]::new)).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // servers still connecting go on in the background
        }
        return this;
    }

    /** Stops every server's process and connection; calls in flight fail. Idempotent. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        for (McpConnection connection : connections) {
            connection.close();
        }
    }

    /** The servers and how to reach them; {@link #start()} connects. */
    public static final class Builder {
        private final List<McpServerConfig> servers = new ArrayList<>();
        private final List<McpConnection.TransportFactory> factories = new ArrayList<>();
        private Duration connectTimeout = Duration.ofSeconds(20);
        private Duration backoffMin = Duration.ofSeconds(1);
        private Duration backoffMax = Duration.ofSeconds(30);

        private Builder() {
        }

        /** Adds a server; names must differ. */
        public Builder server(McpServerConfig server) {
            return server(server, null);
        }

        Builder server(McpServerConfig server, McpConnection.TransportFactory factory) {
            Require.notNull(server, "server");
            Require.that(servers.stream().noneMatch(s -> s.name().equals(server.name())), "two MCP servers are named " + server.name());
            servers.add(server);
            factories.add(factory);
            return this;
        }

        /** Adds the servers. */
        public Builder servers(List<McpServerConfig> list) {
            list.forEach(this::server);
            return this;
        }

        /** How long a connection (start, initialization and tool listing) may take; 20 s unless set. */
        public Builder connectTimeout(Duration timeout) {
            Require.that(timeout != null && !timeout.isNegative() && !timeout.isZero(), "connectTimeout must be positive");
            this.connectTimeout = timeout;
            return this;
        }

        /** The first wait before reconnecting a lost server and the longest one (doubling between); 1 s and 30 s unless set. */
        public Builder reconnectBackoff(Duration min, Duration max) {
            Require.that(min != null && max != null && !min.isNegative() && !min.isZero() && max.compareTo(min) >= 0,
                    "the backoff needs 0 < min <= max");
            this.backoffMin = min;
            this.backoffMax = max;
            return this;
        }

        /**
         * Connects every server, waiting up to the connect timeout for all of them; a server that is not
         * connected by then goes on connecting (with backoff) in the background and offers its tools once connected.
         */
        public McpTools start() {
            return new McpTools(this).startAll(connectTimeout);
        }
    }
}
