package dev.parley.adapter.mcp;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An MCP server built with the Java SDK, in this JVM, reached over the stdio protocol on a loopback
 * socket pair: what it read is recorded line by line, and it can crash (drop the connection) or refuse
 * new connections. Its tools: {@code quick} (answers at once), {@code slow} (answers when released),
 * {@code broken} (an isError result).
 */
final class InJvmServer implements AutoCloseable {
    /** Every line the server read, across connections. */
    final List<String> received = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    /** Counted down when a call of {@code slow} began. */
    volatile CountDownLatch slowStarted = new CountDownLatch(1);
    /** Counted down when the server read a {@code notifications/cancelled}. */
    final CountDownLatch cancelRead = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean refusing;
    private volatile boolean silent;
    /** Counted down when a connection was opened to a silent server. */
    final CountDownLatch silentlyOpened = new CountDownLatch(1);
    private volatile McpSyncServer server;
    private volatile Socket serverSide;

    McpConnection.TransportFactory factory() {
        return (config, json, onEnd) -> open(config, json, onEnd);
    }

    private StreamClientTransport open(McpServerConfig config, McpJsonMapper json, Consumer<String> onEnd) throws IOException {
        if (refusing) {
            throw new IOException("connection refused");
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        Socket client;
        Socket accepted;
        try (ServerSocket listener = new ServerSocket(0, 1, loopback)) {
            client = new Socket(loopback, listener.getLocalPort());
            accepted = listener.accept();
        }
        serverSide = accepted;
        if (silent) {
            // a server that accepts the connection and never answers
            silentlyOpened.countDown();
            return new StreamClientTransport(config.name(), json, client.getInputStream(), client.getOutputStream(), onEnd);
        }
        InputStream in = new LineRecorder(accepted.getInputStream(), line -> {
            received.add(line);
            if (line.contains("\"notifications/cancelled\"")) {
                cancelRead.countDown();
            }
        });
        server = McpServer.sync(new StdioServerTransportProvider(json, in, accepted.getOutputStream()))
                .serverInfo("in-jvm", "1")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())
                .tools(tool("quick", "Answers at once", (exchange, request) -> text("quick: " + request.arguments())),
                        tool("slow", "Answers when released", (exchange, request) -> {
                            slowStarted.countDown();
                            try {
                                release.await(60, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            return text("slow: done");
                        }),
                        tool("broken", "Always fails", (exchange, request) -> McpSchema.CallToolResult.builder()
                                .addTextContent("the widget is broken").isError(true).build()))
                .build();
        connections.incrementAndGet();
        return new StreamClientTransport(config.name(), json, client.getInputStream(), client.getOutputStream(), onEnd);
    }

    static McpServerFeatures.SyncToolSpecification tool(String name, String description,
            java.util.function.BiFunction<io.modelcontextprotocol.server.McpSyncServerExchange, McpSchema.CallToolRequest, McpSchema.CallToolResult> handler) {
        McpSchema.Tool tool = McpSchema.Tool.builder().name(name).description(description)
                .inputSchema(Map.of("type", "object", "properties", Map.of("n", Map.of("type", "integer"))))
                .build();
        return new McpServerFeatures.SyncToolSpecification(tool, handler);
    }

    static McpSchema.CallToolResult text(String text) {
        return McpSchema.CallToolResult.builder().addTextContent(text).build();
    }

    McpSyncServer server() {
        return server;
    }

    /** The server drops the connection, as a crashed process would. */
    void crash() throws IOException {
        serverSide.close();
    }

    void refuseConnections(boolean refuse) {
        refusing = refuse;
    }

    /** New connections are accepted and never answered. */
    void answerNothing() {
        silent = true;
    }

    void releaseSlowCalls() {
        release.countDown();
    }

    @Override
    public void close() throws IOException {
        release.countDown();
        if (serverSide != null) {
            serverSide.close();
        }
    }

    /** Passes bytes through and hands each complete line to {@code onLine}. */
    private static final class LineRecorder extends FilterInputStream {
        private final Consumer<String> onLine;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineRecorder(InputStream in, Consumer<String> onLine) {
            super(in);
            this.onLine = onLine;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                record(b);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            for (int i = 0; i < n; i++) {
                record(buffer[offset + i]);
            }
            return n;
        }

        private void record(int b) {
            if (b == '\n') {
                onLine.accept(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else {
                line.write(b);
            }
        }
    }
}
