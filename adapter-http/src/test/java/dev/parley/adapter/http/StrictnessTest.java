package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ToolCall;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Input the API does not understand is refused, never silently ignored. */
class StrictnessTest {
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static List<String> fields(JsonNode problem) {
        List<String> fields = new ArrayList<>();
        problem.get("errors").forEach(e -> fields.add(e.get("field").asText()));
        return fields;
    }

    @Test
    void should_refuse_a_misspelt_hard_delete_and_keep_the_thread() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        // when
        var r = server.delete(ALICE, "/api/v1/threads/{thread_id}?hard_delete=true", thread);
        // then
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().get("code").asText()).isEqualTo("invalid_parameter");
        assertThat(fields(r.json())).containsExactly("hard_delete");
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", thread).status()).isEqualTo(200);
    }

    @Test
    void should_name_every_unknown_query_parameter_on_every_kind_of_route() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        // when / then
        for (String path : List.of("/api/v1/threads?offset=5&limit=2&sort=asc", "/api/v1/threads/{thread_id}?offset=5&sort=asc",
                "/api/v1/threads/{thread_id}/messages?offset=5&sort=asc", "/api/v1/threads/{thread_id}/runs?offset=5&sort=asc",
                "/api/v1/agents?offset=5&sort=asc", "/health?offset=5&sort=asc")) {
            var r = server.request("GET", path, thread).as(ALICE).send();
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.json().get("code").asText()).as(path).isEqualTo("invalid_parameter");
            assertThat(fields(r.json())).as(path).containsExactly("offset", "sort");
        }
        var post = server.request("POST", "/api/v1/threads?agent=researcher").as(ALICE).json("{}").send();
        assertThat(post.status()).isEqualTo(400);
        assertThat(fields(post.json())).containsExactly("agent");
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).hasSize(1);
    }

    @Test
    void should_accept_the_documented_parameters() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        String thread = server.newThread(ALICE);
        // when / then
        assertThat(server.get(ALICE, "/api/v1/threads?limit=2&agent_id=assistant").status()).isEqualTo(200);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=desc&limit=5", thread).status()).isEqualTo(200);
        assertThat(server.get(ALICE, "/api/v1/agents?status=active").status()).isEqualTo(200);
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}?hard=true", thread).status()).isEqualTo(204);
    }

    @Test
    void should_carry_the_error_of_each_tool_call_in_a_sync_reply() {
        // given: one call that works and one to a tool nobody has
        server = TestServer.start(ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}"),
                        new ToolCall("call_2", "teleporter", "{}"))
                .reply("Done").build());
        String thread = server.newThread(ALICE);
        // when
        JsonNode reply = server.chat(ALICE, thread, "Go");
        // then
        JsonNode calls = reply.get("tool_calls");
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).get("output").asText()).isEqualTo("42");
        assertThat(calls.get(0).get("error").isNull()).isTrue();
        assertThat(calls.get(1).get("output").isNull()).isTrue();
        assertThat(calls.get(1).get("error").asText()).startsWith("tool_not_found");
    }
}
