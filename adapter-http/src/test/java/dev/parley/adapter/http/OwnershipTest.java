package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import org.junit.jupiter.api.Test;

/** User B on every id-scoped route with user A's ids: always 404, exactly like a missing id, and nothing changes. */
class OwnershipTest {

    @Test
    void should_answer_404_to_another_user_on_every_id_scoped_route() {
        try (TestServer server = TestServer.start(ScriptedChatModel.echo())) {
            // given
            String thread = server.newThread(ALICE);
            JsonNode reply = server.chat(ALICE, thread, "secret");
            String run = reply.get("run_id").asText();
            String[][] routes = {
                    {"GET", "/api/v1/threads/{thread_id}", null},
                    {"PATCH", "/api/v1/threads/{thread_id}", "{\"title\":\"mine now\"}"},
                    {"GET", "/api/v1/threads/{thread_id}/messages", null},
                    {"POST", "/api/v1/threads/{thread_id}/chat", "{\"message\":\"hi\"}"},
                    {"POST", "/api/v1/threads/{thread_id}/chat", "{\"message\":\"hi\",\"stream\":true}"},
                    {"DELETE", "/api/v1/threads/{thread_id}/chat", null},
                    {"GET", "/api/v1/threads/{thread_id}/runs", null},
                    {"GET", "/api/v1/threads/{thread_id}/runs/{run_id}", null},
                    {"POST", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", null},
                    {"POST", "/api/v1/threads/{thread_id}/runs/{run_id}/approvals", "{\"tool_call_id\":\"call_1\",\"decision\":\"approve\"}"},
                    {"GET", "/api/v1/threads/{thread_id}/runs/{run_id}/events", null},
                    {"DELETE", "/api/v1/threads/{thread_id}", null},
                    {"DELETE", "/api/v1/threads/{thread_id}?hard=true", null}};
            for (String[] route : routes) {
                // when
                var request = server.request(route[0], route[1], thread, run).as(BOB);
                if (route[2] != null) {
                    request.json(route[2]);
                }
                var r = request.send();
                // then
                assertThat(r.status()).as(route[0] + " " + route[1]).isEqualTo(404);
                assertThat(r.json().get("code").asText()).as(route[1]).isEqualTo("thread_not_found");
                var missing = server.request(route[0], route[1], "thr_0000000000000000", run).as(BOB);
                if (route[2] != null) {
                    missing.json(route[2]);
                }
                var m = missing.send();
                assertThat(m.status()).isEqualTo(404);
                assertThat(m.json().get("detail").asText().replace("thr_0000000000000000", "<id>"))
                        .isEqualTo(r.json().get("detail").asText().replace(thread, "<id>"));
            }
            var global = server.post(BOB, "{\"message\":\"hi\",\"thread_id\":\"" + thread + "\"}", "/api/v1/chat");
            assertThat(global.status()).isEqualTo(404);
            // and nothing changed for Alice
            assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", thread).json().get("title").asText()).isEqualTo("secret");
            assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).hasSize(2);
            assertThat(server.get(BOB, "/api/v1/threads").json().get("data")).isEmpty();
        }
    }
}
