package dev.parley.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.benchmarks.Jdk;
import dev.parley.benchmarks.Tokens;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * The load generators' side of the wire: a JDK {@link HttpClient} (HTTP/1.1, virtual threads,
 * optionally bound to a source address) and the few calls of Parley's API the scenarios make,
 * including a small reader of {@code text/event-stream} responses.
 */
public final class Client {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final ConcurrentHashMap<String, String> BEARERS = new ConcurrentHashMap<>();

    private final HttpClient http;
    private final String base;

    /** A client of the app on {@code port} of 127.0.0.1, connecting from {@code source} (null: any). */
    public Client(int port, InetAddress source, ExecutorService executor) {
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .executor(executor);
        if (source != null && !Jdk.localAddress(builder, source)) {
            throw new IllegalStateException("this JVM cannot bind a client's source address (needs Java 19+)");
        }
        this.http = builder.build();
        this.base = "http://127.0.0.1:" + port;
    }

    public Client(int port, ExecutorService executor) {
        this(port, null, executor);
    }

    /** A cached bearer token of {@code user}. */
    public static String bearer(String user) {
        return BEARERS.computeIfAbsent(user, Tokens::bearer);
    }

    /** Creates a thread for {@code user}; returns its id. */
    public String createThread(String user) throws IOException, InterruptedException {
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/threads"))
                .header("Authorization", bearer(user)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() != 201) {
            throw new IOException("creating a thread answered " + res.statusCode() + ": " + res.body());
        }
        return JSON.readTree(res.body()).get("id").asText();
    }

    /** Creates {@code count} threads, one per user {@code prefix + i}, 32 at a time. */
    public List<String> createThreads(String prefix, int count) throws IOException, InterruptedException {
        List<java.util.concurrent.Future<String>> futures = new ArrayList<>(count);
        java.util.concurrent.Semaphore parallel = new java.util.concurrent.Semaphore(32);
        for (int i = 0; i < count; i++) {
            String user = prefix + i;
            parallel.acquire();
            futures.add(Load.EXECUTOR.submit(() -> {
                try {
                    return createThread(user);
                } finally {
                    parallel.release();
                }
            }));
        }
        List<String> ids = new ArrayList<>(count);
        for (java.util.concurrent.Future<String> f : futures) {
            try {
                ids.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("creating threads failed: " + e.getCause(), e.getCause());
            }
        }
        return ids;
    }

    /** {@code POST /api/v1/threads/{id}/chat} with {@code stream: true}; the caller reads the events. */
    public HttpResponse<InputStream> streamChat(String user, String threadId, String message, boolean cancelOnDisconnect)
            throws IOException, InterruptedException {
        return postStream(threadId == null ? "/api/v1/chat" : "/api/v1/threads/" + threadId + "/chat", user, message, cancelOnDisconnect);
    }

    /** A streamed chat's request ({@code stream: true}, the event stream accepted) to {@code path}. */
    private HttpResponse<InputStream> postStream(String path, String user, String message, boolean cancelOnDisconnect)
            throws IOException, InterruptedException {
        String body = "{\"message\":" + JSON.writeValueAsString(message) + ",\"stream\":true"
                + (cancelOnDisconnect ? ",\"on_disconnect\":\"cancel\"" : "") + "}";
        return http.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", bearer(user)).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /**
     * {@code POST /v1/responses} with {@code stream: true} (the OpenAI-compatible facade) in the
     * conversation {@code threadId}; the caller reads the events.
     */
    public HttpResponse<InputStream> streamResponse(String user, String threadId, String model, String input)
            throws IOException, InterruptedException {
        String body = "{\"model\":" + JSON.writeValueAsString(model) + ",\"input\":" + JSON.writeValueAsString(input)
                + ",\"stream\":true,\"conversation\":" + JSON.writeValueAsString(threadId) + "}";
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/responses"))
                .header("Authorization", bearer(user)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** {@code POST /v1/chat/completions} streamed: {@code input} as the one user message to {@code model}. */
    public HttpResponse<InputStream> streamChatCompletion(String user, String model, String input) throws IOException, InterruptedException {
        String body = "{\"model\":" + JSON.writeValueAsString(model) + ",\"messages\":[{\"role\":\"user\",\"content\":"
                + JSON.writeValueAsString(input) + "}],\"stream\":true}";
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                .header("Authorization", bearer(user)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** {@code POST /bare/idle-sse}, the baseline of an idle stream: the request of {@link #streamChat}, held by a bare handler. */
    public HttpResponse<InputStream> bareIdleStream(String user, String message) throws IOException, InterruptedException {
        return postStream("/bare/idle-sse", user, message, true);
    }

    /** {@code GET /bare/sse}, the baseline stream. */
    public HttpResponse<InputStream> baselineStream() throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/bare/sse")).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    /** A non-streaming chat on Parley's route, or on the bare limit's route when {@code bare}. */
    public HttpResponse<String> syncChat(String user, String threadId, String message, boolean bare)
            throws IOException, InterruptedException {
        String path = (bare ? "/bare/threads/" : "/api/v1/threads/") + threadId + "/chat";
        return http.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", bearer(user)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"message\":" + JSON.writeValueAsString(message) + "}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** {@code DELETE /api/v1/threads/{id}/chat}: cancels the thread's active run. */
    public HttpResponse<String> cancel(String user, String threadId) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/threads/" + threadId + "/chat"))
                .header("Authorization", bearer(user)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A harness route answering JSON ({@code /bench/stats}, {@code /bench/gc}). */
    public JsonNode bench(String path, boolean post) throws IOException, InterruptedException {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        HttpResponse<String> res = http.send(post ? req.POST(HttpRequest.BodyPublishers.noBody()).build() : req.GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(res.body());
    }

    /** One server-sent event as read: its type, its data line, and when its blank line arrived. */
    public record Event(String type, String data, long receivedNanos) {}

    /** Reads events from a {@code text/event-stream} body. Not thread-safe. */
    public static final class EventReader implements AutoCloseable {
        private final InputStream in;
        private final BufferedReader reader;

        public EventReader(InputStream in) {
            this.in = in;
            this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 2048);
        }

        /** The next event, or null at the end of the stream. */
        public Event next() throws IOException {
            String type = null;
            String data = null;
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (type != null || data != null) {
                        return new Event(type == null ? "message" : type, data, System.nanoTime());
                    }
                    continue;
                }
                if (line.startsWith("event:")) {
                    type = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    data = line.substring(5).trim();
                }
            }
            return null;
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing a broken stream
            }
        }
    }

    /** The {@code content} of a token event's data, or null. */
    static String content(String data) {
        int i = data == null ? -1 : data.indexOf("\"content\":\"");
        if (i < 0) {
            return null;
        }
        int start = i + 11;
        int end = data.indexOf('"', start);
        return end < 0 ? null : data.substring(start, end);
    }
}
