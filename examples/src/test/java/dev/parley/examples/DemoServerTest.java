package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo server wired in-process: dev login, the page, agents and the demo model over HTTP. */
class DemoServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static DemoServer server;
    private static String base;

    @BeforeAll
    static void start() {
        server = DemoServer.start(DemoConfig.fromEnvironment(Map.of(
                "PARLEY_PORT", "0",
                "PARLEY_DB_URL", "jdbc:h2:mem:demo-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "PARLEY_DEMO_TOKEN_DELAY_MS", "0")));
        base = "http://localhost:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void should_mint_an_hs256_token_for_the_typed_user_that_the_api_accepts() throws Exception {
        // when
        HttpResponse<String> login = post("/dev/login", null, "{\"user\": \"dave\"}");

        // then
        assertThat(login.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(login.body());
        String token = body.path("token").asText();
        assertThat(body.path("user").asText()).isEqualTo("dave");
        JsonNode header = JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[0]));
        JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
        assertThat(header.path("alg").asText()).isEqualTo("HS256");
        assertThat(claims.path("sub").asText()).isEqualTo("dave");
        assertThat(claims.path("exp").asLong()).isGreaterThan(claims.path("iat").asLong());
        assertThat(get("/api/v1/threads", token).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/threads", token + "x").statusCode()).isEqualTo(401);
    }

    @Test
    void should_mint_an_admin_token_that_may_create_a_shared_agent_when_asked() throws Exception {
        // given
        String admin = JSON.readTree(post("/dev/login", null, "{\"user\": \"erin\", \"roles\": [\"admin\"]}").body()).path("token").asText();
        String plain = JSON.readTree(post("/dev/login", null, "{\"user\": \"frank\"}").body()).path("token").asText();
        String shared = "{\"name\": \"Team\", \"visibility\": \"shared\"}";

        // then
        JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(admin.split("\\.")[1]));
        assertThat(claims.path("roles").get(0).asText()).isEqualTo("admin");
        assertThat(post("/api/v1/agents", admin, shared).statusCode()).isEqualTo(201);
        assertThat(post("/api/v1/agents", plain, shared).statusCode()).isEqualTo(403);
        assertThat(post("/dev/login", null, "{\"user\": \"erin\", \"roles\": [\"root\"]}").statusCode()).isEqualTo(422);
        assertThat(post("/dev/login", null, "{\"user\": \"erin\", \"roles\": \"admin\"}").statusCode()).isEqualTo(422);
    }

    @Test
    void should_answer_problem_json_404_and_405_outside_the_api_beside_the_page() throws Exception {
        // when
        HttpResponse<String> page = get("/", null);
        HttpResponse<String> missing = get("/no/such/page.html", null);
        HttpResponse<String> wrongMethod = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/dev/login")).GET().build(),
                HttpResponse.BodyHandlers.ofString());

        // then
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(JSON.readTree(missing.body()).path("code").asText()).isEqualTo("not_found");
        assertThat(wrongMethod.statusCode()).isIn(404, 405);
        assertThat(wrongMethod.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
    }

    @Test
    void should_refuse_a_login_without_a_usable_user_name() throws Exception {
        HttpResponse<String> missing = post("/dev/login", null, "{}");
        assertThat(missing.statusCode()).isEqualTo(422);
        assertThat(missing.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
        assertThat(JSON.readTree(missing.body()).path("code").asText()).isEqualTo("validation_failed");
        assertThat(JSON.readTree(missing.body()).path("errors").get(0).path("field").asText()).isEqualTo("user");

        assertThat(post("/dev/login", null, "{\"user\": \"" + "x".repeat(65) + "\"}").statusCode()).isEqualTo(422);
        assertThat(post("/dev/login", null, "{\"user\": \"a\\u0000b\"}").statusCode()).isEqualTo(422);
        HttpResponse<String> notJson = post("/dev/login", null, "user=alice");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(notJson.body()).path("code").asText()).isEqualTo("invalid_json");
    }

    @Test
    void should_serve_the_chat_page_with_its_script_and_styles() throws Exception {
        HttpResponse<String> page = get("/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(page.body()).contains("data-testid=\"login-user\"", "/app.js", "/app.css").doesNotContain("https://");
        assertThat(get("/app.js", null).body()).contains("text/event-stream", "Last-Event-ID");
        assertThat(get("/app.css", null).statusCode()).isEqualTo(200);
    }

    @Test
    void should_list_the_demo_agents_without_a_token() throws Exception {
        JsonNode agents = JSON.readTree(get("/api/v1/agents", null).body());
        assertThat(agents.path("data")).extracting(a -> a.path("id").asText()).containsExactly("assistant", "terse");
        assertThat(agents.path("data").get(0).path("model").asText()).isEqualTo("parley-demo");
    }

    @Test
    void should_answer_a_demo_model_failure_with_502_model_error() throws Exception {
        // given
        String token = JSON.readTree(post("/dev/login", null, "{\"user\": \"erin\"}").body()).path("token").asText();

        // when
        HttpResponse<String> failed = post("/api/v1/chat", token, "{\"message\": \"/fail\"}");

        // then
        assertThat(failed.statusCode()).isEqualTo(502);
        JsonNode problem = JSON.readTree(failed.body());
        assertThat(problem.path("code").asText()).isEqualTo("model_error");
        assertThat(problem.path("run_id").asText()).startsWith("run_");
    }

    @Test
    void should_expose_run_request_and_jvm_metrics_at_metrics_after_a_chat() throws Exception {
        // given
        String token = JSON.readTree(post("/dev/login", null, "{\"user\": \"frank\"}").body()).path("token").asText();

        // when
        assertThat(post("/api/v1/chat", token, "{\"message\": \"calculate 6*7\"}").statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = get("/metrics", null);

        // then
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
        assertThat(metrics.body()).contains(
                "parley_runs_started_total{agent=\"assistant\"}",
                "parley_runs_ended_total{agent=\"assistant\",error=\"none\",status=\"completed\"}",
                "parley_run_duration_seconds_bucket{agent=\"assistant\"",
                "parley_run_first_token_seconds_count{agent=\"assistant\"}",
                "parley_step_duration_seconds_count{status=\"completed\",tool=\"calculator\",type=\"tool_call\"}",
                "parley_tokens_total{agent=\"assistant\",kind=\"output\"}",
                "parley_streams_active{transport=\"sse\"}",
                "http_server_requests_seconds_count{method=\"POST\",outcome=\"SUCCESS\",status=\"200\",uri=\"/api/v1/chat\"}",
                "jvm_memory_used_bytes");
    }

    @Test
    void should_show_and_price_the_input_the_demo_model_read_from_its_prompt_cache_everywhere() throws Exception {
        // given
        String token = JSON.readTree(post("/dev/login", null, "{\"user\": \"gina\"}").body()).path("token").asText();

        // when: the input before a /cached message is reported as read from the prompt cache
        JsonNode reply = JSON.readTree(post("/api/v1/chat", token, "{\"message\": \"/cached hello\"}").body());
        JsonNode response = JSON.readTree(post("/v1/responses", token, "{\"model\": \"assistant\", \"input\": \"/cached hello\"}").body());
        JsonNode report = JSON.readTree(get("/api/v1/usage", token).body());
        // a run's end is charged to the metrics just after it is stored
        String metrics = get("/metrics", null).body();
        for (long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
             !metrics.contains("kind=\"cached_input\",model") && System.nanoTime() < deadline; metrics = get("/metrics", null).body()) {
            Thread.sleep(50);
        }

        // then: $0.50, $1.50 and $0.25 per million input, output and cached input tokens
        JsonNode usage = reply.path("usage");
        long cached = usage.path("input_cached_tokens").asLong();
        assertThat(cached).isPositive().isLessThan(usage.path("input_tokens").asLong());
        assertThat(reply.path("cost_usd").decimalValue()).isEqualByComparingTo(new java.math.BigDecimal(
                (usage.path("input_tokens").asLong() - cached) * 0.5 + cached * 0.25 + usage.path("output_tokens").asLong() * 1.5)
                .movePointLeft(6));
        assertThat(response.at("/usage/input_tokens_details/cached_tokens").asLong()).isEqualTo(cached);
        assertThat(report.at("/total/input_cached_tokens").asLong()).isEqualTo(2 * cached);
        assertThat(metrics).contains("parley_tokens_total{agent=\"assistant\",kind=\"cached_input\"}",
                "parley_run_tokens_total{agent=\"assistant\",kind=\"cached_input\",model=\"parley-demo\"}");
    }

    @Test
    void should_answer_a_nul_in_the_path_with_problem_json() throws Exception {
        HttpResponse<String> nul = get("/api/v1/threads/%00", null);
        assertThat(nul.statusCode()).isEqualTo(400);
        assertThat(nul.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
        assertThat(JSON.readTree(nul.body()).path("code").asText()).isEqualTo("bad_request");
    }

    @Test
    void should_not_have_a_login_endpoint_when_dev_login_is_off() throws Exception {
        // given
        try (DemoServer locked = DemoServer.start(DemoConfig.fromEnvironment(Map.of(
                "PARLEY_PORT", "0",
                "PARLEY_DEV_LOGIN", "false",
                "PARLEY_JWT_SECRET", "0123456789abcdef0123456789abcdef",
                "PARLEY_DB_URL", "jdbc:h2:mem:demo-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1")))) {
            // when
            HttpResponse<String> login = send(HttpRequest.newBuilder(URI.create("http://localhost:" + locked.port() + "/dev/login"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"user\": \"mallory\"}")));

            // then
            assertThat(login.statusCode()).isEqualTo(404);
        }
    }

    private static HttpResponse<String> get(String path, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request);
    }

    private static HttpResponse<String> post(String path, String token, String body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
