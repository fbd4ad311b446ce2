package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ToolCall;
import java.net.http.HttpHeaders;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every operation of the OpenAPI document is called for real, and every response (success and
 * error) is validated against the document; at the end every operation must have answered with success.
 */
class OpenApiContractTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "calculator", "{\"expression\":\"1+1\"}"))
                .reply("two")
                .build(), c -> c.corsOrigins("https://app.example"));
    }

    @AfterAll
    static void stopAndCheckCoverage() {
        try {
            assertThat(server.contract.succeeded()).containsExactlyInAnyOrderElementsOf(server.contract.operations());
        } finally {
            server.close();
        }
    }

    @Test
    void should_serve_health_readiness_the_document_and_the_docs_page() {
        assertThat(server.get(null, "/health").json().get("status").asText()).isEqualTo("ok");
        assertThat(server.get(null, "/ready").json().get("status").asText()).isEqualTo("ready");
        assertThat(server.get(null, "/openapi.json").json().get("openapi").asText()).isEqualTo("3.1.0");
        var docs = server.get(null, "/docs");
        assertThat(docs.body()).contains("swagger-ui-bundle.js", "/openapi.json");
        var asset = server.request("GET", "/docs/swagger-ui-bundle.js").undocumented().send();
        assertThat(asset.status()).isEqualTo(200);
        assertThat(asset.contentType()).startsWith("text/javascript");
    }

    @Test
    void should_answer_the_documented_problem_when_headers_are_too_large_on_any_route() {
        for (String path : List.of("/health", "/openapi.json", "/api/v1/agents")) {
            var refused = server.request("GET", path).header("X-Big", "h".repeat(20_000)).sendOnSocket();
            assertThat(refused.status()).as(path).isEqualTo(431);
            assertThat(refused.json().get("code").asText()).isEqualTo("headers_too_large");
        }
    }

    @Test
    void should_exercise_every_rest_route_with_documented_answers() throws Exception {
        server.get(null, "/api/v1/agents");
        server.get(null, "/api/v1/agents/{agent_id}", "assistant");
        String agent = server.post("alice", "{\"name\":\"Support\",\"tools\":[{\"name\":\"calculator\"}]}", "/api/v1/agents").json().get("id").asText();
        server.patch("alice", "{\"description\":\"Helps\"}", "/api/v1/agents/{agent_id}", agent);
        server.get("alice", "/api/v1/agents/{agent_id}/versions", agent);
        server.get("alice", "/api/v1/agents/{agent_id}/versions/{version}", agent, "1");
        server.get("alice", "/api/v1/tools");
        server.delete("alice", "/api/v1/agents/{agent_id}", agent);
        String thread = server.newThread(ALICE);
        server.get(ALICE, "/api/v1/threads");
        server.get(ALICE, "/api/v1/threads/{thread_id}", thread);
        server.patch(ALICE, "{\"title\":\"T\"}", "/api/v1/threads/{thread_id}", thread);
        var reply = server.post(ALICE, "{\"message\":\"1+1?\"}", "/api/v1/threads/{thread_id}/chat", thread);
        assertThat(reply.status()).isEqualTo(200);
        String run = reply.json().get("run_id").asText();
        server.post(ALICE, "{\"message\":\"again\",\"thread_id\":\"" + thread + "\"}", "/api/v1/chat");
        var history = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
        String question = history.get(0).get("id").asText();
        String answer = history.get(history.size() - 1).get("id").asText();
        String message = "/api/v1/threads/{thread_id}/messages/{message_id}";
        server.get(ALICE, message, thread, question);
        server.patch(ALICE, "{\"metadata\":{\"k\":\"v\"}}", message, thread, question);
        server.get(ALICE, message + "/versions", thread, question);
        assertThat(server.post(ALICE, "{}", message + "/regenerate", thread, answer).status()).isEqualTo(200);
        assertThat(server.post(ALICE, "{\"message\":\"2+2?\"}", message + "/edit", thread, question).status()).isEqualTo(200);
        server.post(ALICE, "{}", message + "/activate", thread, question);
        assertThat(server.delete(ALICE, message, thread, answer).status()).isEqualTo(204);
        server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread);
        server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, run);
        var replay = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, run);
        assertThat(replay.body()).contains("event: trace_start", "event: trace_end", "event: done");
        server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", thread, run);
        server.delete(ALICE, "/api/v1/threads/{thread_id}/chat", thread);
        server.get(ALICE, "/api/v1/usage?group_by=thread");
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}", thread).status()).isEqualTo(204);
        server.get(ALICE, "/api/v1/threads?status=deleted");
        assertThat(server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/restore", thread).status()).isEqualTo(200);
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}", thread).status()).isEqualTo(204);
    }

    @Test
    void should_decide_a_tool_call_of_a_waiting_run_through_the_documented_route() {
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(new ToolCall("call_r", "refund", "{\"order\":\"A-1\"}"))
                .reply("Refunded.").build();
        try (TestServer other = TestServer.start(model)) {
            String thread = other.post(ALICE, "{\"agent_id\":\"" + TestServer.APPROVING_AGENT + "\"}", "/api/v1/threads").json()
                    .get("id").asText();
            var waiting = other.post(ALICE, "{\"message\":\"refund A-1\"}", "/api/v1/threads/{thread_id}/chat", thread);
            assertThat(waiting.json().get("status").asText()).isEqualTo("requires_action");
            String run = waiting.json().get("run_id").asText();
            assertThat(other.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, run).status()).isEqualTo(200);
            var decided = other.post(ALICE, "{\"tool_call_id\":\"call_r\",\"decision\":\"deny\",\"reason\":\"no\"}",
                    "/api/v1/threads/{thread_id}/runs/{run_id}/approvals", thread, run);
            assertThat(decided.status()).isEqualTo(200);
            server.contract.record("POST", "/api/v1/threads/{thread_id}/runs/{run_id}/approvals", 200);
            TestServer.eventually("the run completed", () -> other.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, run)
                    .json().get("status").asText().equals("completed"));
            var replay = other.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, run);
            assertThat(replay.body()).contains("event: approval_required", "event: approval_decided", "event: done");
        }
    }

    @Test
    void should_cancel_the_active_run_through_the_documented_routes() throws Exception {
        ScriptedChatModel blocking = ScriptedChatModel.builder().tokensThenBlock("x").tokensThenBlock("y").build();
        try (TestServer other = TestServer.start(blocking)) {
            String thread = other.newThread(ALICE);
            CompletableFuture<TestServer.Response> reply = CompletableFuture.supplyAsync(
                    () -> other.post(ALICE, "{\"message\":\"hi\"}", "/api/v1/threads/{thread_id}/chat", thread));
            assertThat(blocking.awaitBlocked(WAIT)).isTrue();
            assertThat(other.delete(ALICE, "/api/v1/threads/{thread_id}/chat", thread).status()).isEqualTo(200);
            assertThat(reply.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
            server.contract.record("DELETE", "/api/v1/threads/{thread_id}/chat", 200);
            String second = other.newThread(ALICE);
            CompletableFuture<TestServer.Response> next = CompletableFuture.supplyAsync(
                    () -> other.post(ALICE, "{\"message\":\"again\"}", "/api/v1/threads/{thread_id}/chat", second));
            TestServer.eventually("a run exists", () ->
                    other.get(ALICE, "/api/v1/threads/{thread_id}/runs", second).json().get("data").size() == 1);
            String run = other.get(ALICE, "/api/v1/threads/{thread_id}/runs", second).json().get("data").get(0).get("id").asText();
            assertThat(blocking.awaitBlocked(WAIT)).isTrue();
            assertThat(other.post(ALICE, "{}", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", second, run).status()).isEqualTo(200);
            server.contract.record("POST", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", 200);
            assertThat(next.get(WAIT.toSeconds(), TimeUnit.SECONDS).json().get("status").asText()).isEqualTo("cancelled");
        }
    }

    @Test
    void should_open_the_websocket() {
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
        }
        var plain = server.get(null, "/api/v1/ws");
        assertThat(plain.status()).isEqualTo(426);
    }

    @Test
    void should_answer_problem_json_for_unknown_routes_and_methods() {
        var unknown = server.request("GET", "/api/v1/nothing/here").as(ALICE).undocumented().send();
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.contentType()).startsWith("application/problem+json");
        assertThat(unknown.json().get("code").asText()).isEqualTo("not_found");
        var root = server.request("GET", "/nowhere").undocumented().send();
        assertThat(root.status()).isEqualTo(404);
        assertThat(root.json().get("code").asText()).isEqualTo("not_found");
        var method = server.request("PUT", "/api/v1/threads").as(ALICE).undocumented().json("{}").send();
        assertThat(method.status()).isEqualTo(405);
        assertThat(method.json().get("code").asText()).isEqualTo("method_not_allowed");
        assertThat(method.header("Allow")).contains("GET", "POST");
    }

    @Test
    void should_echo_a_valid_request_id_and_make_one_otherwise() {
        var given = server.request("GET", "/health").header("X-Request-Id", "abc-123").send();
        assertThat(given.header("X-Request-Id")).isEqualTo("abc-123");
        var made = server.request("GET", "/health").header("X-Request-Id", "bad id with spaces").send();
        assertThat(made.header("X-Request-Id")).startsWith("req_");
    }

    @Test
    void should_allow_configured_cors_origins_only() {
        var allowed = server.request("GET", "/api/v1/agents").header("Origin", "https://app.example").send();
        assertThat(allowed.header("Access-Control-Allow-Origin")).isEqualTo("https://app.example");
        var denied = server.request("GET", "/api/v1/agents").header("Origin", "https://evil.example").send();
        assertThat(denied.header("Access-Control-Allow-Origin")).isNull();
        var preflight = server.request("OPTIONS", "/api/v1/threads").undocumented()
                .header("Origin", "https://app.example").header("Access-Control-Request-Method", "POST").send();
        assertThat(preflight.status()).isEqualTo(204);
        assertThat(preflight.header("Access-Control-Allow-Methods")).contains("POST");
        assertThat(preflight.header("Access-Control-Allow-Headers")).contains("Authorization", "Idempotency-Key");
    }

    @Test
    void should_answer_preflights_from_the_route_table_to_allowed_origins_only_and_keep_unknown_routes_404() {
        // an allowed origin is told the route's methods and the API's request headers, not an echo of what it asked
        var allowed = server.request("OPTIONS", "/api/v1/threads").undocumented().header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "DELETE").header("Access-Control-Request-Headers", "X-Anything").send();
        assertThat(allowed.status()).isEqualTo(204);
        assertThat(allowed.header("Access-Control-Allow-Methods")).contains("GET", "POST").doesNotContain("DELETE");
        assertThat(allowed.header("Access-Control-Allow-Headers")).isEqualTo(Api.ALLOWED_REQUEST_HEADERS);
        assertThat(allowed.header("Access-Control-Max-Age")).isEqualTo("600");
        // a refused origin is told nothing
        var refused = server.request("OPTIONS", "/api/v1/threads").undocumented().header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "DELETE").header("Access-Control-Request-Headers", "X-Anything").send();
        assertThat(refused.header("Access-Control-Allow-Origin")).isNull();
        assertThat(refused.header("Access-Control-Allow-Methods")).isNull();
        assertThat(refused.header("Access-Control-Allow-Headers")).isNull();
        // an unknown route stays a 404 problem, preflight or not
        var unknown = server.request("OPTIONS", "/api/v1/nothing/here").undocumented().header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "GET").send();
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.header("Content-Type")).startsWith("application/problem+json");
        assertThat(unknown.body()).contains("\"not_found\"");
    }

    @Test
    void should_answer_503_when_not_ready() {
        try (TestServer down = TestServer.start(ScriptedChatModel.echo(), c -> c.readinessCheck(() -> {
            throw new StorageUnavailableException("db down", null);
        }))) {
            var r = down.get(null, "/ready");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.json().get("code").asText()).isEqualTo("unavailable");
        }
    }

    @Test
    void should_catch_a_response_that_drifts_from_the_document() {
        var real = server.get(null, "/api/v1/agents/{agent_id}", "assistant");
        ObjectNode drifted = (ObjectNode) real.json();
        drifted.put("surprise", true);
        var fake = new TestServer.Response(200, HttpHeaders.of(Map.of("Content-Type", List.of("application/json"),
                "X-Request-Id", List.of("r")), (a, b) -> true), drifted.toString());
        assertThatThrownBy(() -> new OpenApiContract().check("GET", "/api/v1/agents/{agent_id}", fake)).isInstanceOf(AssertionError.class);
        var undocumentedStatus = new TestServer.Response(418, real.headers(), real.body());
        assertThatThrownBy(() -> new OpenApiContract().check("GET", "/api/v1/agents/{agent_id}", undocumentedStatus))
                .isInstanceOf(AssertionError.class);
    }
}
