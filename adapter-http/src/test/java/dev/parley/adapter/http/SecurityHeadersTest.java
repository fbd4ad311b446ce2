package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.port.out.Agent;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SecurityHeadersTest {

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** What the headers of an answer must be, whatever the answer. */
    private static void assertBaseline(String what, Map<String, String> headers) {
        assertThat(headers.get("x-content-type-options")).as(what + ": nosniff").isEqualTo("nosniff");
        assertThat(headers.get("referrer-policy")).as(what + ": Referrer-Policy").isEqualTo("no-referrer");
        assertThat(headers.get("x-frame-options")).as(what + ": X-Frame-Options").isEqualTo("DENY");
        assertThat(headers.get("content-security-policy")).as(what + ": CSP").contains("frame-ancestors 'none'");
    }

    @Test
    void should_send_the_security_headers_on_every_kind_of_answer() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a").build();
        server = TestServer.start(model, c -> c.rateLimiter(user -> user.equals("limited")
                ? java.util.OptionalLong.of(7) : java.util.OptionalLong.empty()));
        String thread = server.newThread(ALICE);
        Map<String, TestServer.Request> answers = new LinkedHashMap<>();
        answers.put("health 200", server.request("GET", "/health"));
        answers.put("openapi 200", server.request("GET", "/openapi.json"));
        answers.put("docs asset 200", server.request("GET", "/docs/swagger-ui.css").undocumented());
        answers.put("docs asset 404", server.request("GET", "/docs/nothing.js").undocumented());
        answers.put("agents 200", server.request("GET", "/api/v1/agents"));
        answers.put("thread 200", server.request("GET", "/api/v1/threads/{thread_id}", thread).as(ALICE));
        answers.put("thread created 201", server.request("POST", "/api/v1/threads").as(ALICE).json("{}"));
        answers.put("no token 401", server.request("GET", "/api/v1/threads"));
        answers.put("missing thread 404", server.request("GET", "/api/v1/threads/{thread_id}", "thr_nope").as(ALICE));
        answers.put("unknown api path 404", server.request("GET", "/api/v1/nothing/here").undocumented());
        answers.put("unknown path 404", server.request("GET", "/nothing").undocumented());
        answers.put("wrong method 405", server.request("PUT", "/api/v1/threads").as(ALICE).undocumented());
        answers.put("preflight 204", server.request("OPTIONS", "/api/v1/threads").undocumented()
                .header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST"));
        answers.put("bad json 400", server.request("POST", "/api/v1/threads").as(ALICE).json("{"));
        answers.put("invalid 422", server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE).json("{}"));
        answers.put("rate limited 429", server.request("GET", "/api/v1/threads").as("limited"));
        answers.put("websocket route without upgrade 426", server.request("GET", "/api/v1/ws"));
        for (Map.Entry<String, TestServer.Request> answer : answers.entrySet()) {
            // when
            TestServer.Response r = answer.getValue().send();
            // then
            assertBaseline(answer.getKey(), lowerCase(r.headers().map()));
            assertThat(r.header("Content-Security-Policy")).as(answer.getKey()).isEqualTo(SecurityHeaders.API_POLICY);
            assertThat(r.header("Strict-Transport-Security")).as(answer.getKey() + ": no HSTS without TLS").isNull();
        }

        // an event stream: the headers come before the first event
        try (TestServer.EventStream stream = server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE)
                .json("{\"message\":\"hi\",\"stream\":true}").stream()) {
            assertBaseline("event stream", lowerCase(stream.response().headers().map()));
            assertThat(model.awaitBlocked(WAIT)).isTrue();
            model.release();
            stream.events().readToEnd();
        }
        // requests Jetty refuses before any route, and a WebSocket upgrade from a refused origin
        server.close();
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.webSocketOrigins("https://app.example"));
        for (String request : List.of(
                "GET /%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GARBAGE\r\n\r\n",
                "GET /api/v1/threads HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(20_000) + "\r\nConnection: close\r\n\r\n",
                "GET /api/v1/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        + "Origin: https://evil.example\r\n\r\n")) {
            RawResponse r = raw(server.app.port(), request);
            String label = request.substring(0, Math.min(40, request.length())) + " -> " + r.status();
            assertThat(r.status()).as(label).isBetween(400, 499);
            assertBaseline(label, r.headers());
        }
    }

    @Test
    void should_give_the_docs_page_a_strict_policy_and_no_inline_script() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        // when
        TestServer.Response docs = server.request("GET", "/docs").send();
        // then
        assertThat(docs.status()).isEqualTo(200);
        assertBaseline("docs", lowerCase(docs.headers().map()));
        String csp = docs.header("Content-Security-Policy");
        assertThat(csp).isEqualTo(SecurityHeaders.DOCS_POLICY)
                .contains("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "http:", "https:");
        // every script is a file of this server, and no markup carries inline code or style
        assertThat(Pattern.compile("<script(?![^>]*\\bsrc=\"/docs/)").matcher(docs.body()).find()).isFalse();
        assertThat(Pattern.compile("\\son[a-z]+=|\\sstyle=|javascript:", Pattern.CASE_INSENSITIVE).matcher(docs.body()).find())
                .isFalse();
        var scripts = Pattern.compile("<script src=\"(/docs/[^\"]+)\"").matcher(docs.body()).results()
                .map(m -> m.group(1)).toList();
        assertThat(scripts).contains("/docs/swagger-ui-bundle.js", "/docs/parley-docs.js");
        for (String script : scripts) {
            TestServer.Response file = server.request("GET", script).undocumented().send();
            assertThat(file.status()).as(script).isEqualTo(200);
            assertThat(file.contentType()).as(script).startsWith("text/javascript");
        }
        assertThat(server.request("GET", "/docs/parley-docs.js").undocumented().send().body())
                .contains("SwaggerUIBundle", "openapiUrl", "validatorUrl: null");
        assertThat(docs.body()).contains("data-openapi-url=\"/openapi.json\"");
    }

    @Test
    void should_send_hsts_only_when_told_the_server_runs_behind_tls() {
        // given
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.securityHeaders(SecurityHeaders.builder().behindTls(true).build()));
        // when
        TestServer.Response ok = server.request("GET", "/health").send();
        TestServer.Response unauthorized = server.request("GET", "/api/v1/threads").send();
        TestServer.Response docs = server.request("GET", "/docs").send();
        // then
        for (TestServer.Response r : List.of(ok, unauthorized, docs)) {
            assertThat(r.header("Strict-Transport-Security")).isEqualTo("max-age=31536000");
            assertBaseline("behind TLS " + r.status(), lowerCase(r.headers().map()));
        }
    }

    @Test
    void should_send_no_security_header_when_turned_off() {
        // given
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.securityHeaders(SecurityHeaders.off()));
        // when
        TestServer.Response r = server.request("GET", "/health").send();
        // then
        assertThat(r.status()).isEqualTo(200);
        for (String name : List.of("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy",
                "Strict-Transport-Security")) {
            assertThat(r.header(name)).as(name).isNull();
        }
    }

    @Test
    void should_use_the_configured_referrer_policy() {
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.securityHeaders(SecurityHeaders.builder()
                .referrerPolicy("strict-origin-when-cross-origin").build()));
        assertThat(server.request("GET", "/health").send().header("Referrer-Policy")).isEqualTo("strict-origin-when-cross-origin");
    }

    @Test
    void should_refuse_header_values_with_control_characters() {
        assertThatThrownBy(() -> SecurityHeaders.builder().pagePolicy("default-src 'self'\r\nX-Evil: 1"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SecurityHeaders.builder().referrerPolicy(" ")).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- embedded in a host app -----------------------------------------------------------------

    @Test
    void should_never_replace_a_header_the_host_app_sets_and_leave_its_own_routes_alone() throws Exception {
        // given a host app that sets headers before the API's (a before-handler registered first) and after them (its route)
        try (Embedded host = Embedded.start(SecurityHeaders.defaults(), cfg -> {
            cfg.routes.before(ctx -> ctx.header("X-Frame-Options", "SAMEORIGIN"));
            cfg.routes.before(ctx -> ctx.header("Content-Security-Policy", "frame-ancestors https://portal.example"));
        }, cfg -> {
            cfg.routes.before("/api/v1/agents", ctx -> ctx.header("Referrer-Policy", "same-origin"));
            cfg.routes.get("/hello", ctx -> ctx.result("hello"));
        })) {
            // when
            HttpResponse<String> agents = host.get("/api/v1/agents");
            HttpResponse<String> health = host.get("/health");
            HttpResponse<String> own = host.get("/hello");
            // then the API's answers keep what the host set and get the rest
            assertThat(agents.statusCode()).isEqualTo(200);
            assertThat(agents.headers().firstValue("X-Frame-Options")).hasValue("SAMEORIGIN");
            assertThat(agents.headers().firstValue("Content-Security-Policy")).hasValue("frame-ancestors https://portal.example");
            assertThat(agents.headers().firstValue("Referrer-Policy")).hasValue("same-origin");
            assertThat(agents.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(health.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
            assertThat(health.headers().allValues("X-Frame-Options")).containsExactly("SAMEORIGIN");
            // and the host's own route gets nothing from the API (only what the host set itself)
            assertThat(own.body()).isEqualTo("hello");
            assertThat(own.headers().firstValue("X-Content-Type-Options")).isEmpty();
            assertThat(own.headers().firstValue("Referrer-Policy")).isEmpty();
        }
    }

    @Test
    void should_give_the_host_apps_answers_the_page_policy_when_asked_for_the_whole_app() throws Exception {
        // given
        try (Embedded host = Embedded.start(SecurityHeaders.builder().wholeApp(true).build(), cfg -> { }, cfg -> {
            cfg.routes.get("/hello", ctx -> ctx.html("<p>hello</p>"));
            cfg.routes.get("/framed", ctx -> ctx.header("X-Frame-Options", "SAMEORIGIN")
                    .header("Content-Security-Policy", "frame-ancestors 'self'").result("framed"));
        })) {
            // when
            HttpResponse<String> page = host.get("/hello");
            HttpResponse<String> missing = host.get("/nothing");
            HttpResponse<String> framed = host.get("/framed");
            HttpResponse<String> api = host.get("/api/v1/agents");
            // then
            for (HttpResponse<String> r : List.of(page, missing)) {
                assertBaseline(r.uri().getPath(), lowerCase(r.headers().map()));
                assertThat(r.headers().firstValue("Content-Security-Policy")).hasValue(
                        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                                + " connect-src 'self' ws://localhost:" + host.port() + " wss://localhost:" + host.port()
                                + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
            }
            assertThat(framed.headers().allValues("X-Frame-Options")).containsExactly("SAMEORIGIN");
            assertThat(framed.headers().allValues("Content-Security-Policy")).containsExactly("frame-ancestors 'self'");
            assertThat(api.headers().firstValue("Content-Security-Policy")).hasValue(SecurityHeaders.API_POLICY);
        }
    }

    @Test
    void should_leave_websocket_hosts_out_of_the_page_policy_when_the_host_header_is_not_a_plain_host() {
        SecurityHeaders headers = SecurityHeaders.builder().wholeApp(true).build();
        assertThat(headers.pagePolicy("evil.example; script-src *")).doesNotContain("evil", "ws:", "script-src *");
        assertThat(headers.pagePolicy(null)).contains("connect-src 'self';");
        assertThat(headers.pagePolicy("[::1]:8080")).contains("ws://[::1]:8080 wss://[::1]:8080");
        assertThat(SecurityHeaders.builder().pagePolicy("default-src 'none'").build().pagePolicy("x")).isEqualTo("default-src 'none'");
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static Map<String, String> lowerCase(Map<String, List<String>> headers) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), String.join(", ", v)));
        return out;
    }

    /** The API mounted on a host app: {@code before} runs on the host's config before the API is installed, {@code after} after. */
    private record Embedded(Javalin app, ChatService chat, HttpClient client) implements AutoCloseable {
        static Embedded start(SecurityHeaders headers, Consumer<JavalinConfig> before, Consumer<JavalinConfig> after) {
            var store = InMemoryAdapters.store();
            ChatService chat = ChatService.builder().store(store).model(ScriptedChatModel.echo())
                    .agents(List.of(new Agent("helper", "Helper", null, null, null, null, null))).build();
            ParleyHttp.Config config = ParleyHttp.config(chat, JwtAuthenticator.hs256(Tokens.SECRET).build())
                    .securityHeaders(headers).build();
            Javalin app = Javalin.create(cfg -> {
                cfg.startup.showJavalinBanner = false;
                before.accept(cfg);
                ParleyHttp.install(cfg, config);
                after.accept(cfg);
            }).start(0);
            return new Embedded(app, chat, HttpClient.newBuilder().connectTimeout(WAIT).build());
        }

        int port() {
            return app.port();
        }

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port() + path)).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public void close() throws Exception {
            app.stop();
            chat.close();
        }
    }

    record RawResponse(int status, Map<String, String> headers) {}

    /** Sends {@code request} as is on a fresh connection; reads the status line and headers. */
    static RawResponse raw(int port, String request) {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String head = readHead(socket.getInputStream());
            Map<String, String> headers = new LinkedHashMap<>();
            String[] lines = head.split("\r\n");
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim(),
                            (a, b) -> a + ", " + b);
                }
            }
            return new RawResponse(Integer.parseInt(lines[0].substring(9, 12)), headers);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        for (int b; matched < 4 && (b = in.read()) != -1; ) {
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
