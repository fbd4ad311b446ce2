package dev.parley.examples.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** A small client of one demo server's HTTP API, signed in as one user. */
public final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final String base;
    private final String token;

    private Api(String base, String token) {
        this.base = base;
        this.token = token;
    }

    /** Signs {@code user} in through the dev login of {@code server}. */
    public static Api signIn(DemoProcess server, String user) throws IOException, InterruptedException {
        Response r = new Api(server.baseUrl(), null).post("/dev/login", "{\"user\": \"" + user + "\"}", Map.of());
        if (r.status() != 200) {
            throw new IllegalStateException("login failed: " + r);
        }
        return new Api(server.baseUrl(), r.json().path("token").asText());
    }

    /** The same user, talking to another server (servers share the JWT secret). */
    public Api on(DemoProcess server) {
        return new Api(server.baseUrl(), token);
    }

    public String base() {
        return base;
    }

    public Response get(String path) throws IOException, InterruptedException {
        return send(request(path).GET());
    }

    public Response post(String path, String body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder r = request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(r::header);
        return send(r);
    }

    /** Opens a stream of server-sent events (a streaming chat or {@code /events}); read it with {@link SseStream#next}. */
    public SseStream stream(String method, String path, String body, Map<String, String> headers) {
        HttpRequest.Builder r = request(path).timeout(Duration.ofMinutes(5)).header("Accept", "text/event-stream");
        if (body != null) {
            r.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            r.method(method, HttpRequest.BodyPublishers.noBody());
        }
        headers.forEach(r::header);
        return SseStream.open(HTTP, r.build());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return r;
    }

    private static Response send(HttpRequest.Builder request) throws IOException, InterruptedException {
        long start = System.nanoTime();
        HttpResponse<String> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Response(r.statusCode(), r.body(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** A chat request body. */
    public static String chat(String message, boolean stream, String ifBusy) {
        ObjectNode body = JSON.createObjectNode().put("message", message).put("stream", stream);
        if (ifBusy != null) {
            body.put("if_busy", ifBusy);
        }
        return body.toString();
    }

    /** An answer: status, body and how long it took. */
    public record Response(int status, String body, Duration took) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public String code() {
            return json().path("code").asText();
        }
    }
}
