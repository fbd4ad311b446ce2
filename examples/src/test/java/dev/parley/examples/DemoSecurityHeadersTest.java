package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The demo's answers, page and static files included, carry the security headers; HSTS with PARLEY_BEHIND_TLS. */
class DemoSecurityHeadersTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static DemoServer start(Map<String, String> extra) {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "PARLEY_PORT", "0",
                "PARLEY_DB_URL", "jdbc:h2:mem:demo-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "PARLEY_DEMO_TOKEN_DELAY_MS", "0"));
        env.putAll(extra);
        return DemoServer.start(DemoConfig.fromEnvironment(env));
    }

    @Test
    void should_give_the_page_a_strict_policy_and_every_answer_the_security_headers() throws Exception {
        try (DemoServer server = start(Map.of())) {
            String host = "localhost:" + server.port();
            // when
            HttpResponse<String> page = send(server, "GET", "/");
            // then
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue(
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://" + host
                            + " wss://" + host + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
            for (String path : List.of("/", "/app.js", "/app.css", "/nothing.html", "/api/v1/agents", "/api/v1/threads", "/health",
                    "/docs", "/openapi.json")) {
                HttpResponse<String> r = send(server, "GET", path);
                assertThat(r.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
                assertThat(r.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
                assertThat(r.headers().firstValue("Referrer-Policy")).as(path).hasValue("no-referrer");
                assertThat(r.headers().firstValue("Content-Security-Policy")).as(path).hasValueSatisfying(csp ->
                        assertThat(csp).contains("frame-ancestors 'none'").doesNotContain("unsafe-inline", "unsafe-eval"));
                assertThat(r.headers().firstValue("Strict-Transport-Security")).as(path).isEmpty();
            }
            HttpResponse<String> login = send(server, "POST", "/dev/login");
            assertThat(login.statusCode()).isEqualTo(400);
            assertThat(login.headers().firstValue("X-Frame-Options")).hasValue("DENY");
        }
    }

    @Test
    void should_answer_head_on_the_page_with_the_headers_of_get() throws Exception {
        try (DemoServer server = start(Map.of())) {
            HttpResponse<String> get = send(server, "GET", "/");
            HttpResponse<String> head = send(server, "HEAD", "/");
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            for (String name : List.of("Content-Type", "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                    "Referrer-Policy")) {
                assertThat(head.headers().allValues(name)).as(name).isEqualTo(get.headers().allValues(name)).isNotEmpty();
            }
        }
    }

    @Test
    void should_send_hsts_when_parley_behind_tls_is_true() throws Exception {
        try (DemoServer server = start(Map.of("PARLEY_BEHIND_TLS", "true"))) {
            for (String path : List.of("/", "/api/v1/agents", "/api/v1/threads", "/nothing")) {
                assertThat(send(server, "GET", path).headers().firstValue("Strict-Transport-Security")).as(path)
                        .hasValue("max-age=31536000");
            }
        }
    }

    private static HttpResponse<String> send(DemoServer server, String method, String path) throws IOException, InterruptedException {
        HttpRequest.BodyPublisher body = method.equals("POST")
                ? HttpRequest.BodyPublishers.ofString("not json") : HttpRequest.BodyPublishers.noBody();
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.port() + path)).method(method, body).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
