package dev.parley.adapter.mcp;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The stdio transport of MCP (one JSON-RPC message a line) over a pair of streams: a child process's
 * stdout and stdin, or pipes in tests. Unlike the SDK's stdio transport it says when the stream ends,
 * so that calls in flight fail at once when the server exits instead of waiting for their timeout.
 */
class StreamClientTransport implements McpClientTransport {
    private static final Logger log = LoggerFactory.getLogger(StreamClientTransport.class);
    /** Longest line read: a longer message ends the connection. */
    static final int MAX_LINE_CHARS = 16 * 1024 * 1024;

    private final String serverName;
    private final McpJsonMapper json;
    private final InputStream in;
    private final Writer out;
    private final Consumer<String> onEnd;
    private final AtomicBoolean closed = new AtomicBoolean();

    StreamClientTransport(String serverName, McpJsonMapper json, InputStream in, OutputStream out, Consumer<String> onEnd) {
        this.serverName = serverName;
        this.json = json;
        this.in = in;
        this.out = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
        this.onEnd = onEnd;
    }

    @Override
    public Mono<Void> connect(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        return Mono.fromRunnable(() -> {
            Thread reader = new Thread(() -> read(handler), "parley-mcp-" + serverName + "-reader");
            reader.setDaemon(true);
            reader.start();
        });
    }

    private void read(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        String reason = "the MCP server '" + serverName + "' closed its output";
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.length() > MAX_LINE_CHARS) {
                    reason = "the MCP server '" + serverName + "' sent a message longer than " + MAX_LINE_CHARS + " characters";
                    break;
                }
                if (line.isBlank()) {
                    continue;
                }
                McpSchema.JSONRPCMessage message;
                try {
                    message = McpSchema.deserializeJsonRpcMessage(json, line);
                } catch (IOException | RuntimeException e) {
                    log.debug("MCP server {}: ignored a line that is no JSON-RPC message", serverName);
                    continue;
                }
                try {
                    handler.apply(Mono.just(message)).subscribe(ignored -> { }, e -> log.debug("MCP server {}: handling a message failed",
                            serverName, e));
                } catch (RuntimeException e) {
                    log.debug("MCP server {}: handling a message failed", serverName, e);
                }
            }
        } catch (IOException e) {
            if (!closed.get()) {
                reason = "the connection to the MCP server '" + serverName + "' broke: " + e.getMessage();
            }
        } finally {
            ended(reason);
        }
    }

    /** Called once the stream ended; subclasses may add why (an exit code). */
    void ended(String reason) {
        onEnd.accept(reason);
    }

    @Override
    public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
        return Mono.fromRunnable(() -> {
            try {
                String text = json.writeValueAsString(message);
                synchronized (out) {
                    out.write(text);
                    out.write('\n');
                    out.flush();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not write to the MCP server '" + serverName + "'", e);
            }
        });
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.fromRunnable(this::closeNow);
    }

    void closeNow() {
        if (closed.compareAndSet(false, true)) {
            try {
                synchronized (out) {
                    out.close();
                }
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                in.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    boolean isClosed() {
        return closed.get();
    }

    @Override
    public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
        return json.convertValue(data, typeRef);
    }
}
