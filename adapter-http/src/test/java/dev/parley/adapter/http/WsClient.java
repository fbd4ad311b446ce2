package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A JDK WebSocket client that queues the server's frames (each checked against the document) and records the close code. */
final class WsClient implements WebSocket.Listener, AutoCloseable {
    static final java.util.Set<String> TERMINAL = java.util.Set.of("done", "error", "cancelled");
    final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final java.util.List<AssertionError> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final OpenApiContract contract;
    private final java.util.List<String> transcript;
    private WebSocket socket;

    private WsClient(OpenApiContract contract, java.util.List<String> transcript) {
        this.contract = contract;
        this.transcript = transcript;
    }

    static WsClient connect(TestServer server, Map<String, String> headers) {
        WsClient client = new WsClient(server.contract, server.transcript);
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(TestServer.WAIT);
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

    /**
     * Frames until the run of each of {@code requestIds} has sent its terminal event ({@code done},
     * {@code error} or {@code cancelled}), whatever the order in which the runs' frames arrive.
     */
    java.util.List<JsonNode> untilEnded(String... requestIds) {
        java.util.List<JsonNode> seen = new java.util.ArrayList<>();
        java.util.Set<String> open = new java.util.HashSet<>(java.util.List.of(requestIds));
        while (!open.isEmpty()) {
            JsonNode frame = next();
            seen.add(frame);
            JsonNode requestId = frame.get("request_id");
            if (requestId != null && frame.has("run_id") && TERMINAL.contains(frame.get("type").asText())) {
                open.remove(requestId.asText());
            }
        }
        return seen;
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
            transcript.add("ws\n" + partial);
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
        transcript.add("ws\n" + reason);
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
