package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.OTHER_AGENT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ThreadRoutesTest {
    private final TestServer server = TestServer.start(ScriptedChatModel.echo());

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void should_create_a_thread_with_the_default_agent_and_no_title() {
        // when
        var r = server.post(ALICE, "{}", "/api/v1/threads");
        // then
        assertThat(r.status()).isEqualTo(201);
        JsonNode t = r.json();
        assertThat(t.get("id").asText()).startsWith("thr_");
        assertThat(t.get("object").asText()).isEqualTo("thread");
        assertThat(t.get("agent_id").asText()).isEqualTo(TestServer.AGENT);
        assertThat(t.get("title").isNull()).isTrue();
        assertThat(t.get("created_at").asText()).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
        assertThat(r.header("Location")).isEqualTo("/api/v1/threads/" + t.get("id").asText());
    }

    @Test
    void should_create_a_thread_without_a_body() {
        var r = server.request("POST", "/api/v1/threads").as(ALICE).send();
        assertThat(r.status()).isEqualTo(201);
    }

    @Test
    void should_create_a_thread_with_agent_title_and_metadata() {
        var r = server.post(ALICE, "{\"agent_id\":\"researcher\",\"title\":\"Trip\",\"metadata\":{\"k\":\"v\"},\"ignored\":1}", "/api/v1/threads");
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().get("agent_id").asText()).isEqualTo(OTHER_AGENT);
        assertThat(r.json().get("title").asText()).isEqualTo("Trip");
        assertThat(r.json().get("metadata").get("k").asText()).isEqualTo("v");
    }

    @Test
    void should_answer_404_agent_not_found_for_an_unknown_agent() {
        var r = server.post(ALICE, "{\"agent_id\":\"nobody\"}", "/api/v1/threads");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().get("code").asText()).isEqualTo("agent_not_found");
    }

    @Test
    void should_reject_wrongly_typed_members_naming_each_field() {
        var r = server.post(ALICE, "{\"title\":5,\"metadata\":{\"a\":1},\"agent_id\":[]}", "/api/v1/threads");
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.json().get("code").asText()).isEqualTo("validation_failed");
        List<String> fields = new ArrayList<>();
        r.json().get("errors").forEach(e -> fields.add(e.get("field").asText()));
        assertThat(fields).containsExactlyInAnyOrder("title", "metadata.a", "agent_id");
    }

    @Test
    void should_get_patch_and_list_threads_most_recently_updated_first() {
        // given
        String first = server.newThread(ALICE);
        String second = server.newThread(ALICE);
        // when
        var patched = server.patch(ALICE, "{\"title\":\"Renamed\",\"metadata\":{\"x\":\"y\"}}", "/api/v1/threads/{thread_id}", first);
        // then
        assertThat(patched.status()).isEqualTo(200);
        assertThat(patched.json().get("title").asText()).isEqualTo("Renamed");
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", first).json().get("metadata").get("x").asText()).isEqualTo("y");
        JsonNode page = server.get(ALICE, "/api/v1/threads").json();
        assertThat(page.get("object").asText()).isEqualTo("list");
        assertThat(page.get("data").get(0).get("id").asText()).isEqualTo(first);
        assertThat(page.get("data").get(1).get("id").asText()).isEqualTo(second);
        assertThat(page.get("has_more").asBoolean()).isFalse();
        assertThat(page.get("next_cursor").isNull()).isTrue();
    }

    @Test
    void should_page_threads_with_cursors_and_filter_by_agent() {
        // given
        for (int i = 0; i < 5; i++) {
            server.newThread(ALICE);
        }
        server.post(ALICE, "{\"agent_id\":\"researcher\"}", "/api/v1/threads");
        // when
        JsonNode p1 = server.get(ALICE, "/api/v1/threads?limit=4").json();
        JsonNode p2 = server.get(ALICE, "/api/v1/threads?limit=4&cursor={c}", p1.get("next_cursor").asText()).json();
        // then
        assertThat(p1.get("data")).hasSize(4);
        assertThat(p1.get("has_more").asBoolean()).isTrue();
        assertThat(p2.get("data")).hasSize(2);
        assertThat(p2.get("has_more").asBoolean()).isFalse();
        assertThat(server.get(ALICE, "/api/v1/threads?agent_id=researcher").json().get("data")).hasSize(1);
    }

    @Test
    void should_answer_400_invalid_parameter_for_bad_limit_cursor_and_order() {
        String thread = server.newThread(ALICE);
        for (String query : List.of("limit=0", "limit=101", "limit=abc", "limit=-1", "cursor=not-a-cursor")) {
            var r = server.get(ALICE, "/api/v1/threads?" + query);
            assertThat(r.status()).as(query).isEqualTo(400);
            assertThat(r.json().get("code").asText()).as(query).isEqualTo("invalid_parameter");
        }
        var r = server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=sideways", thread);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo("order");
    }

    @Test
    void should_soft_delete_a_thread_so_every_route_answers_404() {
        // given
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "hello");
        // when
        var r = server.delete(ALICE, "/api/v1/threads/{thread_id}", thread);
        // then
        assertThat(r.status()).isEqualTo(204);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", thread).status()).isEqualTo(404);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).status()).isEqualTo(404);
        assertThat(server.get(ALICE, "/api/v1/threads").json().get("data")).isEmpty();
    }

    @Test
    void should_hard_delete_a_thread() {
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "hello");
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}?hard=true", thread).status()).isEqualTo(204);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).status()).isEqualTo(404);
        var bad = server.delete(ALICE, "/api/v1/threads/{thread_id}?hard=maybe", server.newThread(ALICE));
        assertThat(bad.status()).isEqualTo(400);
    }

    @Test
    void should_list_messages_oldest_first_or_newest_first() {
        // given
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "one");
        server.chat(ALICE, thread, "two");
        // when
        JsonNode asc = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json();
        JsonNode desc = server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=desc&limit=1", thread).json();
        // then
        assertThat(asc.get("data")).hasSize(4);
        JsonNode first = asc.get("data").get(0);
        assertThat(first.get("role").asText()).isEqualTo("user");
        assertThat(first.get("content").get(0).get("text").asText()).isEqualTo("one");
        assertThat(first.get("status").asText()).isEqualTo("completed");
        assertThat(asc.get("data").get(1).get("role").asText()).isEqualTo("assistant");
        assertThat(desc.get("data").get(0).get("content").get(0).get("text").asText()).isEqualTo("two");
        assertThat(desc.get("has_more").asBoolean()).isTrue();
    }

    @Test
    void should_generate_the_title_from_the_first_message() {
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "Plan a trip to Lisbon for three days with a focus on food and old trams please\nsecond line");
        String title = server.get(ALICE, "/api/v1/threads/{thread_id}", thread).json().get("title").asText();
        assertThat(title).isEqualTo("Plan a trip to Lisbon for three days with a focus on food");
    }

    @Test
    void should_answer_404_for_ids_that_cannot_exist() {
        String thread = server.newThread(ALICE);
        for (String bad : List.of("msg_0123", "thr_..%2F..%2Fetc", "thr_" + "a".repeat(5000), "thr_../../etc", "123")) {
            var r = server.get(ALICE, "/api/v1/threads/{thread_id}", bad);
            assertThat(r.status()).as(bad.length() > 40 ? "long id" : bad).isEqualTo(404);
            assertThat(r.contentType()).startsWith("application/problem+json");
        }
        var r = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, "thr_notarun");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().get("code").asText()).isEqualTo("run_not_found");
    }

    @Test
    void should_list_and_get_agents_without_a_token() {
        JsonNode agents = server.get(null, "/api/v1/agents").json();
        assertThat(agents.get("data")).extracting(a -> a.get("id").asText())
                .containsExactly(TestServer.AGENT, TestServer.OTHER_AGENT, TestServer.APPROVING_AGENT);
        JsonNode assistant = server.get(null, "/api/v1/agents/{agent_id}", "assistant").json();
        assertThat(assistant.get("tools").get(0).get("name").asText()).isEqualTo("calculator");
        assertThat(assistant.get("tools").get(0).get("parameters").get("type").asText()).isEqualTo("object");
        assertThat(server.get(null, "/api/v1/agents/{agent_id}", "nobody").status()).isEqualTo(404);
        assertThat(server.get(null, "/api/v1/agents/{agent_id}", "../etc").status()).isEqualTo(404);
    }
}
