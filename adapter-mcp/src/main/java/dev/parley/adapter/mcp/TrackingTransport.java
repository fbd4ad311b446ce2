package dev.parley.adapter.mcp;

import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * A transport that remembers the JSON-RPC id of each {@code tools/call} by the progress token Parley
 * gave it, so that a cancelled call can be named in a {@code notifications/cancelled} (the SDK's
 * client neither sends that notification nor shows request ids), and that reports transport failures.
 */
final class TrackingTransport implements McpClientTransport {
    static final String CANCELLED = "notifications/cancelled";

    private final McpClientTransport delegate;
    private final Consumer<Throwable> onFailure;
    private final Map<Object, Object> requestIds = new ConcurrentHashMap<>();

    TrackingTransport(McpClientTransport delegate, Consumer<Throwable> onFailure) {
        this.delegate = delegate;
        this.onFailure = onFailure;
        delegate.setExceptionHandler(onFailure);
    }

    @Override
    public Mono<Void> connect(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        return delegate.connect(handler);
    }

    @Override
    public void setExceptionHandler(Consumer<Throwable> handler) {
        delegate.setExceptionHandler(e -> {
            onFailure.accept(e);
            handler.accept(e);
        });
    }

    @Override
    public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
        if (message instanceof McpSchema.JSONRPCRequest request && McpSchema.METHOD_TOOLS_CALL.equals(request.method())
                && request.params() instanceof McpSchema.CallToolRequest call && call.meta() != null) {
            Object token = call.meta().get("progressToken");
            if (token != null) {
                requestIds.put(token, request.id());
            }
        }
        return delegate.sendMessage(message);
    }

    /** Forgets the call of {@code progressToken} (it ended). */
    void forget(Object progressToken) {
        requestIds.remove(progressToken);
    }

    /**
     * Tells the server that the call of {@code progressToken} is cancelled; true when it was sent
     * (false when the call had not reached the transport yet).
     */
    boolean cancel(Object progressToken, String reason) {
        Object id = requestIds.remove(progressToken);
        if (id == null) {
            return false;
        }
        delegate.sendMessage(new McpSchema.JSONRPCNotification(McpSchema.JSONRPC_VERSION, CANCELLED,
                Map.of("requestId", id, "reason", reason))).subscribe(ignored -> { }, onFailure);
        return true;
    }

    @Override
    public Mono<Void> closeGracefully() {
        return delegate.closeGracefully();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public <T> T unmarshalFrom(Object data, TypeRef<T> typeRef) {
        return delegate.unmarshalFrom(data, typeRef);
    }

    @Override
    public List<String> protocolVersions() {
        return delegate.protocolVersions();
    }
}
