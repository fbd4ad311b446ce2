package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.testsupport.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A run waiting for approval is only rows: every server that knew it stops, another starts on the same
 * database, and a decision there completes the run, on the demo server over HTTP.
 */
class ApprovalRestartTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final String SECRET = "approval-restart-secret-of-at-least-32-bytes";

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>(Map.of("PARLEY_PORT", "0", "PARLEY_DEMO_TOKEN_DELAY_MS", "0",
            "PARLEY_RATE_LIMIT", "0", "PARLEY_JWT_SECRET", SECRET));

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private void onDatabase(String store) {
        if (store.equals("postgres")) {
            TestPostgres.Schema schema = TestPostgres.freshSchema("approval_restart");
            resources.add(schema);
            env.put("PARLEY_DB_URL", schema.url());
        } else {
            env.put("PARLEY_DB_URL", "jdbc:h2:mem:approval-restart-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        }
    }

    private DemoServer start() {
        DemoServer server = DemoServer.start(DemoConfig.fromEnvironment(env));
        resources.add(server::close);
        return server;
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void should_complete_a_waiting_run_decided_on_a_server_started_after_every_server_stopped(String store) throws Exception {
        // given: a run waits for approval on server A, which then stops
        onDatabase(store);
        DemoServer a = start();
        String baseA = "http://localhost:" + a.port();
        String token = JSON.readTree(send(baseA, "POST", "/dev/login", null, "{\"user\": \"dora\"}").body()).path("token").asText();
        HttpResponse<String> paused = send(baseA, "POST", "/api/v1/chat", token, "{\"message\": \"refund A-1\", \"stream\": false}");
        assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
        JsonNode reply = JSON.readTree(paused.body());
        assertThat(reply.path("status").asText()).isEqualTo("requires_action");
        String callId = reply.path("required_action").path("tool_calls").get(0).path("id").asText();
        String run = "/api/v1/threads/" + reply.path("thread_id").asText() + "/runs/" + reply.path("run_id").asText();
        a.close();

        // when: server B starts on the same database and takes the decision
        DemoServer b = start();
        String baseB = "http://localhost:" + b.port();
        HttpResponse<String> listed = send(baseB, "GET", "/api/v1/threads/" + reply.path("thread_id").asText() + "/runs", token, null);
        HttpResponse<String> decided = send(baseB, "POST", run + "/approvals", token,
                "{\"tool_call_id\": \"" + callId + "\", \"decision\": \"approve\"}");

        // then
        assertThat(JSON.readTree(listed.body()).path("data").get(0).path("required_action").path("tool_calls").get(0)
                .path("id").asText()).isEqualTo(callId);
        assertThat(decided.statusCode()).as(decided.body()).isEqualTo(200);
        String events = send(baseB, "GET", run + "/events", token, null).body(); // the stream ends with the run
        JsonNode done = JSON.readTree(send(baseB, "GET", run, token, null).body());
        assertThat(done.path("status").asText()).isEqualTo("completed");
        assertThat(done.path("steps").findValuesAsText("status")).doesNotContain("awaiting_approval");
        assertThat(events).contains("event: approval_required", "event: approval_decided", "event: done");
        assertThat(send(baseB, "GET", "/api/v1/threads/" + reply.path("thread_id").asText() + "/messages", token, null).body())
                .contains("Order A-1 is refunded.");
    }

    private static HttpResponse<String> send(String base, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
