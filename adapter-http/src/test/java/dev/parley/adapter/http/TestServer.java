package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.core.ChatServiceBuilder;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import io.javalin.Javalin;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;

/**
 * The API on an ephemeral port over the real ChatService, the in-memory adapters and a scripted
 * model, with a JDK HttpClient. Close after each test.
 */
final class TestServer implements AutoCloseable {
    /** Longest wait for anything the server should do soon; generous, so that a loaded machine is not a failure. */
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String ALICE = "alice";
    static final String BOB = "bob";
    static final String AGENT = "assistant";
    static final String OTHER_AGENT = "researcher";
    /** An agent whose {@code refund} tool needs a person's approval of each call. */
    static final String APPROVING_AGENT = "cashier";
    static final ObjectMapper JSON = new ObjectMapper();

    final ScriptedChatModel model;
    final ChatStore store;
    final ChatService service;
    final Javalin app;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();
    final String base;
    final OpenApiContract contract = new OpenApiContract();
    /**
     * What this server sent to the tests' clients: {@code "http <status> <content type>\n<body>"} per
     * response, {@code "ws\n<frame>"} per WebSocket frame or close reason.
     */
    final List<String> transcript = new java.util.concurrent.CopyOnWriteArrayList<>();

    private TestServer(ScriptedChatModel model, UnaryOperator<ChatServiceBuilder> customizeService,
                       UnaryOperator<ParleyHttp.Config.Builder> customize) {
        this(model, customizeService, customize, InMemoryAdapters.store());
    }

    private TestServer(ScriptedChatModel model, UnaryOperator<ChatServiceBuilder> customizeService,
                       UnaryOperator<ParleyHttp.Config.Builder> customize, ChatStore store) {
        this.model = model;
        this.store = store;
        this.service = customizeService.apply(ChatService.builder()).store(store).model(model)
                .agents(List.of(
                        Agent.builder(AGENT).name("Assistant").description("Answers questions")
                                .instructions("You are helpful.").tools(new Calculator()).build(),
                        Agent.builder(OTHER_AGENT).name("Researcher").description("Digs deeper")
                                .instructions("You research.").model("scripted-large").build(),
                        Agent.builder(APPROVING_AGENT).name("Cashier").description("Refunds orders, with approval")
                                .tools(Tool.of("refund", "Refunds an order", "{\"type\":\"object\"}", ctx -> "refunded")
                                        .requiringApproval())
                                .build()))
                .prices(Map.of("scripted", ModelPrice.of("1", "2")))
                .build();
        ParleyHttp.Config.Builder config = ParleyHttp.config(service, JwtAuthenticator.hs256(Tokens.SECRET).build())
                .rateLimitPerMinute(100_000)
                .heartbeatInterval(Duration.ofSeconds(15));
        this.app = ParleyHttp.start(customize.apply(config).build(), 0);
        this.base = "http://localhost:" + app.port();
    }

    static TestServer start(ScriptedChatModel model) {
        return new TestServer(model, b -> b, c -> c);
    }

    /** A server over {@code store} (for instance one that can be taken down). */
    static TestServer over(ChatStore store, ScriptedChatModel model) {
        return new TestServer(model, b -> b, c -> c, store);
    }

    static TestServer start(ScriptedChatModel model, UnaryOperator<ParleyHttp.Config.Builder> customize) {
        return new TestServer(model, b -> b, customize);
    }

    static TestServer start(ScriptedChatModel model, UnaryOperator<ChatServiceBuilder> customizeService,
                            UnaryOperator<ParleyHttp.Config.Builder> customize) {
        return new TestServer(model, customizeService, customize);
    }

    @Override
    public void close() {
        app.stop();
        service.close();
    }

    /** A tool the assistant agent offers: answers 42 to any expression. */
    static final class Calculator implements Tool {
        @Override
        public String name() {
            return "calculator";
        }

        @Override
        public String description() {
            return "Evaluates an arithmetic expression";
        }

        @Override
        public String parametersSchema() {
            return "{\"type\":\"object\",\"properties\":{\"expression\":{\"type\":\"string\"}},\"required\":[\"expression\"]}";
        }

        @Override
        public String execute(ToolContext context) {
            return "42";
        }
    }

    // ---- requests ----

    record Response(int status, HttpHeaders headers, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        String contentType() {
            return header("Content-Type");
        }
    }

    /**
     * A request to {@code template} (a path of the OpenAPI document, its {@code {placeholders}}
     * filled with {@code args} in order); its response is checked against the document.
     */
    Request request(String method, String template, String... args) {
        return new Request(method, template, args);
    }

    Response get(String user, String template, String... args) {
        return request("GET", template, args).as(user).send();
    }

    Response post(String user, String json, String template, String... args) {
        return request("POST", template, args).as(user).json(json).send();
    }

    Response patch(String user, String json, String template, String... args) {
        return request("PATCH", template, args).as(user).json(json).send();
    }

    Response delete(String user, String template, String... args) {
        return request("DELETE", template, args).as(user).send();
    }

    /** Creates a thread for {@code user} and answers its id. */
    String newThread(String user) {
        Response r = post(user, "{}", "/api/v1/threads");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    /** A synchronous chat that must succeed; answers the reply. */
    JsonNode chat(String user, String threadId, String message) {
        Response r = post(user, "{\"message\":" + quote(message) + "}", "/api/v1/threads/{thread_id}/chat", threadId);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    /** An open event stream (status 200, {@code text/event-stream}); frames are checked against the document as they are read. */
    record EventStream(HttpResponse<InputStream> response, SseReader events) implements AutoCloseable {
        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        @Override
        public void close() {
            events.close();
        }
    }

    static String quote(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A request being built. */
    final class Request {
        private final String method;
        private final String template;
        private final String path;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
        private boolean documented = true;

        Request(String method, String template, String... args) {
            this.method = method;
            this.template = template;
            String filled = template;
            for (String arg : args) {
                filled = filled.replaceFirst("\\{[^}/]+}", java.util.regex.Matcher.quoteReplacement(arg));
            }
            this.path = filled;
        }

        /** The route is not in the document (an unknown path): skip the contract check. */
        Request undocumented() {
            this.documented = false;
            return this;
        }

        Request as(String user) {
            if (user != null) {
                headers.put("Authorization", "Bearer " + Tokens.forUser(user));
            }
            return this;
        }

        Request header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        Request json(String json) {
            headers.putIfAbsent("Content-Type", "application/json");
            body = HttpRequest.BodyPublishers.ofString(json);
            return this;
        }

        Request body(String contentType, byte[] bytes) {
            if (contentType != null) {
                headers.put("Content-Type", contentType);
            }
            body = HttpRequest.BodyPublishers.ofByteArray(bytes);
            return this;
        }

        HttpRequest build() {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(WAIT).method(method, body);
            headers.forEach(b::header);
            return b.build();
        }

        Response send() {
            try {
                HttpResponse<String> r = client.send(build(), HttpResponse.BodyHandlers.ofString());
                return received(new Response(r.statusCode(), r.headers(), r.body()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /**
         * Sends the request (without a body) on a socket of its own, HTTP/1.1 with {@code Connection:
         * close}, and reads the answer until the server closes the connection; checked against the
         * document like {@link #send()}. For requests the server refuses before reading them whole
         * (oversized headers), where the bytes the server writes are what is under test.
         */
        Response sendOnSocket() {
            if (body.contentLength() != 0) {
                throw new IllegalStateException("sendOnSocket sends requests without a body");
            }
            StringBuilder head = new StringBuilder(method).append(' ').append(path)
                    .append(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
            headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
            head.append("\r\n");
            try (java.net.Socket socket = new java.net.Socket("localhost", app.port())) {
                socket.setSoTimeout((int) WAIT.toMillis());
                socket.getOutputStream().write(head.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
                return received(parseResponse(readUntilClosed(socket.getInputStream())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Notes {@code response} in the transcript and checks it against the document (unless undocumented). */
        private Response received(Response response) {
            transcript.add("http " + response.status() + " " + response.contentType() + "\n" + response.body());
            if (documented) {
                contract.check(method, template.contains("?") ? template.substring(0, template.indexOf('?')) : template, response);
            }
            return response;
        }

        /** Opens an event stream; the response must be 200 {@code text/event-stream}. */
        EventStream stream() {
            HttpResponse<InputStream> r = open();
            if (r.statusCode() != 200) {
                String text;
                try (InputStream in = r.body()) {
                    text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                throw new AssertionError("expected an event stream, got " + r.statusCode() + ": " + text);
            }
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
            contract.record(method, template, 200);
            return new EventStream(r, new SseReader(r.body(), contract));
        }

        /** Opens a streaming response (status and headers read, body not yet). */
        HttpResponse<InputStream> open() {
            try {
                HttpRequest request = HttpRequest.newBuilder(build(), (n, v) -> true).timeout(Duration.ofSeconds(60)).build();
                return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * What arrived before the server closed the connection: a reset after the answer keeps what arrived, a
     * reset before any byte fails.
     */
    static byte[] readUntilClosed(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) {
                all.write(buffer, 0, n);
            }
        } catch (java.net.SocketException reset) {
            if (all.size() == 0) {
                throw reset;
            }
        }
        return all.toByteArray();
    }

    /** An HTTP/1.1 answer as read from the wire: status line, headers, and the body its Content-Length names. */
    private static Response parseResponse(byte[] bytes) {
        String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        int headEnd = text.indexOf("\r\n\r\n");
        assertThat(headEnd).as("an HTTP answer: %s", text).isPositive();
        String[] lines = text.substring(0, headEnd).split("\r\n");
        assertThat(lines[0]).as("status line").matches("HTTP/1\\.1 \\d{3}( .*)?");
        Map<String, List<String>> fields = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            fields.computeIfAbsent(lines[i].substring(0, colon).trim(), k -> new java.util.ArrayList<>())
                    .add(lines[i].substring(colon + 1).trim());
        }
        HttpHeaders headers = HttpHeaders.of(fields, (name, value) -> true);
        String body = text.substring(headEnd + 4);
        headers.firstValueAsLong("Content-Length").ifPresent(length ->
                assertThat(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)).as("body of %s", lines[0]).hasSize((int) length));
        return new Response(Integer.parseInt(lines[0].substring(9, 12)), headers, body);
    }

    /** Polls {@code condition} until it holds or {@link #WAIT} passes. */
    static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            LockSupport.parkNanos(2_000_000);
        }
    }
}
