package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A JDK WebSocket client that queues the server's frames (each checked against the document) and records the close code. */
final class WsClient implements WebSocket.Listener, AutoCloseable {
    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final java.util.List<AssertionError> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final OpenApiContract contract;
    private WebSocket socket;

    private WsClient(OpenApiContract contract) {
        this.contract = contract;
    }

    static WsClient connect(TestServer server, Map<String, String> headers) {
        WsClient client = new WsClient(server.contract);
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        headers.forEach(builder::header);
        client.socket = builder.buildAsync(URI.create("ws://localhost:" + server.app.port() + "/api/v1/ws"), client).join();
        server.contract.record("GET", "/api/v1/ws", 101);
        return client;
    }

    void send(String text) {
        contract.checkClientFrame(TestServer.parse(text));
        socket.sendText(text, true).join();
    }

    void sendRaw(String text) {
        socket.sendText(text, true).join();
    }

    /** The next frame from the server; fails after {@link TestServer#WAIT}. */
    JsonNode next() {
        try {
            JsonNode frame = frames.poll(TestServer.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (!failures.isEmpty()) {
                throw failures.get(0);
            }
            if (frame == null) {
                throw new AssertionError("no frame within " + TestServer.WAIT);
            }
            return frame;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Frames until one of {@code type} (included). */
    java.util.List<JsonNode> until(String... types) {
        java.util.List<JsonNode> seen = new java.util.ArrayList<>();
        java.util.Set<String> wanted = java.util.Set.of(types);
        while (true) {
            JsonNode frame = next();
            seen.add(frame);
            if (wanted.contains(frame.get("type").asText())) {
                return seen;
            }
        }
    }

    int closeCode() {
        try {
            return closed.get(TestServer.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("the socket was not closed", e);
        }
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            JsonNode frame = TestServer.parse(partial.toString());
            partial.setLength(0);
            try {
                contract.checkServerFrame(frame);
            } catch (AssertionError e) {
                failures.add(e);
            }
            frames.add(frame);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        }
        socket.abort();
    }
}
