package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.AGENT;
import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent routes of API part 2: ownership across two users and an admin, versions, archive, template and field errors, the tool registry. */
class AgentRoutesTest {
    private static final String ADMIN = "carol";
    private static final String SUPPORT = "{\"name\":\"Support\",\"description\":\"Helps customers\","
            + "\"instructions\":\"You help {{customer}} of {{user_id}}.\","
            + "\"variables\":[{\"name\":\"customer\",\"default\":\"a customer\"}],"
            + "\"model_settings\":{\"temperature\":0.5,\"max_output_tokens\":500,\"reasoning_effort\":\"low\"},"
            + "\"tools\":[{\"name\":\"calculator\"}],\"metadata\":{\"team\":\"care\"}}";

    private final TestServer server = TestServer.start(ScriptedChatModel.echo());

    @AfterEach
    void stop() {
        server.close();
    }

    private TestServer.Response asAdmin(String method, String json, String template, String... args) {
        var request = server.request(method, template, args)
                .header("Authorization", "Bearer " + Tokens.with(ADMIN, c -> c.claim("roles", List.of("admin"))));
        if (json != null) {
            request.json(json);
        }
        return request.send();
    }

    private String create(String user, String json) {
        TestServer.Response r = server.post(user, json, "/api/v1/agents");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static List<String> ids(TestServer.Response page) {
        List<String> ids = new ArrayList<>();
        page.json().get("data").forEach(a -> ids.add(a.get("id").asText()));
        return ids;
    }

    @Test
    void should_keep_which_tools_need_approval_and_the_approval_timeout_across_versions() {
        // when
        String id = create(ALICE, "{\"name\":\"Careful\",\"tools\":[{\"name\":\"calculator\",\"requires_approval\":true}],"
                + "\"approval_timeout_seconds\":600}");
        JsonNode created = server.get(ALICE, "/api/v1/agents/{agent_id}", id).json();
        server.patch(ALICE, "{\"description\":\"still careful\"}", "/api/v1/agents/{agent_id}", id);
        JsonNode v2 = server.get(ALICE, "/api/v1/agents/{agent_id}", id).json();
        server.patch(ALICE, "{\"tools\":[{\"name\":\"calculator\"}],\"approval_timeout_seconds\":null}", "/api/v1/agents/{agent_id}", id);
        JsonNode v3 = server.get(ALICE, "/api/v1/agents/{agent_id}", id).json();

        // then
        assertThat(created.get("tools").get(0).get("requires_approval").asBoolean()).isTrue();
        assertThat(created.get("approval_timeout_seconds").asInt()).isEqualTo(600);
        assertThat(v2.get("tools").get(0).get("requires_approval").asBoolean()).isTrue();
        assertThat(v2.get("approval_timeout_seconds").asInt()).isEqualTo(600);
        assertThat(v3.get("tools").get(0).get("requires_approval").asBoolean()).isFalse();
        assertThat(v3.get("approval_timeout_seconds").asInt()).isEqualTo(86_400);
        var bad = server.post(ALICE, "{\"name\":\"x\",\"tools\":[{\"name\":\"calculator\",\"requires_approval\":\"yes\"}],"
                + "\"approval_timeout_seconds\":0}", "/api/v1/agents");
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.json().get("errors")).extracting(e -> e.get("field").asText())
                .contains("tools[0].requires_approval");
        var zero = server.post(ALICE, "{\"name\":\"x\",\"approval_timeout_seconds\":0}", "/api/v1/agents");
        assertThat(zero.status()).isEqualTo(422);
        assertThat(zero.json().get("errors").get(0).get("field").asText()).isEqualTo("approval_timeout_seconds");
    }

    @Test
    void should_create_a_private_agent_as_version_1_with_every_field() {
        // when
        TestServer.Response r = server.post(ALICE, SUPPORT, "/api/v1/agents");

        // then
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        JsonNode a = r.json();
        assertThat(a.get("id").asText()).startsWith("agt_");
        assertThat(a.get("object").asText()).isEqualTo("agent");
        assertThat(a.get("version").asInt()).isEqualTo(1);
        assertThat(a.get("visibility").asText()).isEqualTo("private");
        assertThat(a.get("builtin").asBoolean()).isFalse();
        assertThat(a.get("status").asText()).isEqualTo("active");
        assertThat(a.get("model_settings").get("temperature").asDouble()).isEqualTo(0.5);
        assertThat(a.get("model_settings").get("max_output_tokens").asInt()).isEqualTo(500);
        assertThat(a.get("model_settings").get("reasoning_effort").asText()).isEqualTo("low");
        assertThat(a.get("tools").get(0).get("name").asText()).isEqualTo("calculator");
        assertThat(a.get("tools").get(0).get("requires_approval").asBoolean()).isFalse();
        assertThat(a.get("variables").get(0).get("default").asText()).isEqualTo("a customer");
        assertThat(a.get("metadata").get("team").asText()).isEqualTo("care");
    }

    @Test
    void should_show_a_private_agent_to_its_creator_only_and_a_shared_one_to_everyone() {
        // given
        String mine = create(ALICE, SUPPORT);
        TestServer.Response shared = asAdmin("POST", "{\"name\":\"Team\",\"visibility\":\"shared\"}", "/api/v1/agents");
        assertThat(shared.status()).as(shared.body()).isEqualTo(201);
        String team = shared.json().get("id").asText();

        // then
        assertThat(ids(server.get(ALICE, "/api/v1/agents"))).contains(AGENT, mine, team);
        assertThat(ids(server.get(BOB, "/api/v1/agents"))).contains(AGENT, team).doesNotContain(mine);
        assertThat(ids(server.request("GET", "/api/v1/agents").send())).contains(AGENT, team).doesNotContain(mine);
        assertThat(server.get(ALICE, "/api/v1/agents/{agent_id}", mine).status()).isEqualTo(200);
        assertThat(server.get(BOB, "/api/v1/agents/{agent_id}", team).status()).isEqualTo(200);
        for (String[] route : new String[][] {
                {"GET", "/api/v1/agents/{agent_id}", null},
                {"GET", "/api/v1/agents/{agent_id}/versions", null},
                {"GET", "/api/v1/agents/{agent_id}/versions/{version}", null},
                {"PATCH", "/api/v1/agents/{agent_id}", "{\"name\":\"Mine now\"}"},
                {"DELETE", "/api/v1/agents/{agent_id}", null}}) {
            var request = server.request(route[0], route[1], mine, "1").as(BOB);
            if (route[2] != null) {
                request.json(route[2]);
            }
            TestServer.Response r = request.send();
            assertThat(r.status()).as(route[0] + " " + route[1]).isEqualTo(404);
            assertThat(r.json().get("code").asText()).isEqualTo("agent_not_found");
        }
        assertThat(server.request("GET", "/api/v1/agents/{agent_id}", mine).send().status()).isEqualTo(404);
        // even an admin does not see another user's private agent
        assertThat(asAdmin("GET", null, "/api/v1/agents/{agent_id}", mine).status()).isEqualTo(404);
        assertThat(server.get(ALICE, "/api/v1/agents/{agent_id}", mine).json().get("name").asText()).isEqualTo("Support");
    }

    @Test
    void should_need_the_admin_role_to_create_or_change_a_shared_agent() {
        // given
        String team = asAdmin("POST", "{\"name\":\"Team\",\"visibility\":\"shared\"}", "/api/v1/agents").json().get("id").asText();
        String mine = create(ALICE, "{\"name\":\"Mine\"}");

        // then
        assertForbidden(server.post(ALICE, "{\"name\":\"Team 2\",\"visibility\":\"shared\"}", "/api/v1/agents"), "forbidden");
        assertForbidden(server.patch(BOB, "{\"name\":\"Ours\"}", "/api/v1/agents/{agent_id}", team), "forbidden");
        assertForbidden(server.delete(BOB, "/api/v1/agents/{agent_id}", team), "forbidden");
        assertForbidden(server.patch(ALICE, "{\"visibility\":\"shared\"}", "/api/v1/agents/{agent_id}", mine), "forbidden");
        TestServer.Response changed = asAdmin("PATCH", "{\"description\":\"For the team\"}", "/api/v1/agents/{agent_id}", team);
        assertThat(changed.status()).as(changed.body()).isEqualTo(200);
        assertThat(changed.json().get("version").asInt()).isEqualTo(2);
    }

    @Test
    void should_refuse_every_write_to_a_built_in_agent() {
        assertForbidden(server.patch(ALICE, "{\"name\":\"Mine\"}", "/api/v1/agents/{agent_id}", AGENT), "agent_read_only");
        assertForbidden(server.delete(ALICE, "/api/v1/agents/{agent_id}", AGENT), "agent_read_only");
        assertForbidden(asAdmin("PATCH", "{\"name\":\"Mine\"}", "/api/v1/agents/{agent_id}", AGENT), "agent_read_only");
        JsonNode builtin = server.request("GET", "/api/v1/agents/{agent_id}", AGENT).send().json();
        assertThat(builtin.get("builtin").asBoolean()).isTrue();
        assertThat(builtin.get("name").asText()).isEqualTo("Assistant");
    }

    private static void assertForbidden(TestServer.Response r, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(403);
        assertThat(r.json().get("code").asText()).isEqualTo(code);
    }

    @Test
    void should_make_a_new_version_on_every_update_and_keep_the_old_ones() {
        // given
        String id = create(ALICE, SUPPORT);

        // when
        TestServer.Response v2 = server.patch(ALICE, "{\"instructions\":\"Be brief with {{customer}}.\"}", "/api/v1/agents/{agent_id}", id);
        server.patch(ALICE, "{\"name\":\"Support desk\"}", "/api/v1/agents/{agent_id}", id);

        // then
        assertThat(v2.status()).as(v2.body()).isEqualTo(200);
        assertThat(v2.json().get("version").asInt()).isEqualTo(2);
        assertThat(v2.json().get("name").asText()).isEqualTo("Support");
        JsonNode latest = server.get(ALICE, "/api/v1/agents/{agent_id}", id).json();
        assertThat(latest.get("version").asInt()).isEqualTo(3);
        assertThat(latest.get("instructions").asText()).isEqualTo("Be brief with {{customer}}.");
        JsonNode v1 = server.get(ALICE, "/api/v1/agents/{agent_id}/versions/{version}", id, "1").json();
        assertThat(v1.get("instructions").asText()).isEqualTo("You help {{customer}} of {{user_id}}.");
        TestServer.Response versions = server.get(ALICE, "/api/v1/agents/{agent_id}/versions?limit=2", id);
        List<Integer> numbers = new ArrayList<>();
        versions.json().get("data").forEach(a -> numbers.add(a.get("version").asInt()));
        assertThat(numbers).containsExactly(3, 2);
        assertThat(versions.json().get("has_more").asBoolean()).isTrue();
        TestServer.Response missing = server.get(ALICE, "/api/v1/agents/{agent_id}/versions/{version}", id, "4");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().get("code").asText()).isEqualTo("agent_version_not_found");
        assertThat(server.get(ALICE, "/api/v1/agents/{agent_id}/versions/{version}", id, "x").status()).isEqualTo(404);
    }

    @Test
    void should_archive_refuse_new_threads_keep_old_ones_and_restore() {
        // given
        String id = create(ALICE, "{\"name\":\"Seasonal\"}");
        TestServer.Response created = server.post(ALICE, "{\"agent_id\":\"" + id + "\"}", "/api/v1/threads");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String thread = created.json().get("id").asText();

        // when
        TestServer.Response archived = server.delete(ALICE, "/api/v1/agents/{agent_id}", id);

        // then
        assertThat(archived.status()).isEqualTo(204);
        TestServer.Response refused = server.post(ALICE, "{\"agent_id\":\"" + id + "\"}", "/api/v1/threads");
        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.json().get("code").asText()).isEqualTo("agent_archived");
        TestServer.Response threadless = server.post(ALICE, "{\"agent_id\":\"" + id + "\",\"message\":\"hi\"}", "/api/v1/chat");
        assertThat(threadless.status()).as(threadless.body()).isEqualTo(409);
        assertThat(threadless.json().get("code").asText()).isEqualTo("agent_archived");
        server.chat(ALICE, thread, "still here");
        assertThat(ids(server.get(ALICE, "/api/v1/agents"))).doesNotContain(id);
        assertThat(ids(server.get(ALICE, "/api/v1/agents?status=archived"))).containsExactly(id);
        assertThat(server.get(ALICE, "/api/v1/agents?status=gone").status()).isEqualTo(400);
        TestServer.Response restored = server.patch(ALICE, "{\"status\":\"active\"}", "/api/v1/agents/{agent_id}", id);
        assertThat(restored.status()).as(restored.body()).isEqualTo(200);
        assertThat(restored.json().get("status").asText()).isEqualTo("active");
        assertThat(server.post(ALICE, "{\"agent_id\":\"" + id + "\"}", "/api/v1/threads").status()).isEqualTo(201);
    }

    @Test
    void should_name_the_field_of_every_template_and_setting_error() {
        assertFields("{\"name\":\"x\",\"instructions\":\"Hi {{nobody}}\"}", "instructions");
        assertFields("{\"name\":\"x\",\"tools\":[{\"name\":\"calculator\"},{\"name\":\"teleport\"}]}", "tools[1].name");
        assertFields("{\"name\":\"x\",\"model_settings\":{\"temperature\":3}}", "model_settings.temperature");
        assertFields("{\"name\":\"x\",\"model_settings\":{\"max_output_tokens\":0}}", "model_settings.max_output_tokens");
        assertFields("{\"name\":\"x\",\"model_settings\":{\"reasoning_effort\":\"extreme\"}}", "model_settings.reasoning_effort");
        assertFields("{\"name\":\"x\",\"visibility\":\"public\"}", "visibility");
        assertFields("{\"description\":\"no name\"}", "name");
        assertFields("{\"name\":123}", "name");
        assertFields("{\"name\":\"a\\u0000b\"}", "name");
        String id = create(ALICE, "{\"name\":\"x\"}");
        TestServer.Response r = server.patch(ALICE, "{\"instructions\":\"{{missing}}\"}", "/api/v1/agents/{agent_id}", id);
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.json().get("errors").findValuesAsText("field")).contains("instructions");
        assertThat(server.get(ALICE, "/api/v1/agents/{agent_id}", id).json().get("version").asInt()).isEqualTo(1);
    }

    private void assertFields(String json, String field) {
        TestServer.Response r = server.post(ALICE, json, "/api/v1/agents");
        assertThat(r.status()).as(json + " -> " + r.body()).isEqualTo(422);
        assertThat(r.json().get("code").asText()).isEqualTo("validation_failed");
        assertThat(r.json().get("errors").findValuesAsText("field")).as(r.body()).contains(field);
    }

    @Test
    void should_list_the_tool_registry_to_a_user_with_a_token() {
        TestServer.Response r = server.get(ALICE, "/api/v1/tools");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("data").findValuesAsText("name")).contains("calculator");
        assertThat(server.request("GET", "/api/v1/tools").send().status()).isEqualTo(401);
        assertThat(server.request("POST", "/api/v1/agents").json("{\"name\":\"x\"}").send().status()).isEqualTo(401);
    }

    @Test
    void should_render_the_chat_requests_variables_else_the_threads_metadata_into_the_instructions() {
        // given
        String id = create(ALICE, "{\"name\":\"Support\",\"instructions\":\"You help {{customer}} for {{user_id}}.\","
                + "\"variables\":[{\"name\":\"customer\",\"required\":true}]}");
        String thread = server.post(ALICE, "{\"agent_id\":\"" + id + "\"}", "/api/v1/threads").json().get("id").asText();

        // when
        TestServer.Response missing = server.post(ALICE, "{\"message\":\"hi\"}", "/api/v1/threads/{thread_id}/chat", thread);
        TestServer.Response given = server.post(ALICE, "{\"message\":\"hi\",\"variables\":{\"customer\":\"ACME {{user_id}}\"}}",
                "/api/v1/threads/{thread_id}/chat", thread);

        // then
        assertThat(missing.status()).as(missing.body()).isEqualTo(422);
        assertThat(missing.json().get("errors").findValuesAsText("field")).contains("variables.customer");
        assertThat(given.status()).as(given.body()).isEqualTo(200);
        assertThat(server.model.lastRequest().messages().get(0).text()).isEqualTo("You help ACME {{user_id}} for alice.");
        JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, given.json().get("run_id").asText()).json();
        assertThat(run.get("agent_version").asInt()).isEqualTo(1);
        assertThat(run.get("instructions").asText()).isEqualTo("You help ACME {{user_id}} for alice.");
        server.patch(ALICE, "{\"metadata\":{\"customer\":\"Globex\"}}", "/api/v1/threads/{thread_id}", thread);
        server.chat(ALICE, thread, "again");
        assertThat(server.model.lastRequest().messages().get(0).text()).isEqualTo("You help Globex for alice.");
        TestServer.Response wrongType = server.post(ALICE, "{\"message\":\"hi\",\"variables\":{\"customer\":1}}",
                "/api/v1/threads/{thread_id}/chat", thread);
        assertThat(wrongType.status()).isEqualTo(422);
        assertThat(wrongType.json().get("errors").findValuesAsText("field")).contains("variables.customer");
    }

    @Test
    void should_run_a_pinned_thread_on_its_version_and_an_unpinned_one_on_the_latest() {
        // given
        String id = create(ALICE, "{\"name\":\"Support\",\"instructions\":\"Version one.\"}");
        TestServer.Response pinned = server.post(ALICE, "{\"agent_id\":\"" + id + "\",\"agent_version\":1}", "/api/v1/threads");
        String latest = server.post(ALICE, "{\"agent_id\":\"" + id + "\"}", "/api/v1/threads").json().get("id").asText();
        server.patch(ALICE, "{\"instructions\":\"Version two.\"}", "/api/v1/agents/{agent_id}", id);

        // when
        JsonNode onPinned = server.chat(ALICE, pinned.json().get("id").asText(), "hi");
        String pinnedInstructions = server.model.lastRequest().messages().get(0).text();
        JsonNode onLatest = server.chat(ALICE, latest, "hi");

        // then
        assertThat(pinned.status()).as(pinned.body()).isEqualTo(201);
        assertThat(pinned.json().get("agent_version").asInt()).isEqualTo(1);
        assertThat(pinnedInstructions).isEqualTo("Version one.");
        assertThat(server.model.lastRequest().messages().get(0).text()).isEqualTo("Version two.");
        JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", pinned.json().get("id").asText(),
                onPinned.get("run_id").asText()).json();
        assertThat(run.get("agent_version").asInt()).isEqualTo(1);
        assertThat(onPinned.get("agent_version").asInt()).isEqualTo(1);
        assertThat(onLatest.get("agent_version").asInt()).isEqualTo(2);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs", latest).json().get("data"))
                .extracting(r -> r.get("agent_version").asInt()).containsExactly(2);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs", pinned.json().get("id").asText()).json().get("data"))
                .extracting(r -> r.get("agent_version").asInt()).containsExactly(1);
        TestServer.Response noSuch = server.post(ALICE, "{\"agent_id\":\"" + id + "\",\"agent_version\":9}", "/api/v1/threads");
        assertThat(noSuch.status()).isEqualTo(404);
        assertThat(noSuch.json().get("code").asText()).isEqualTo("agent_version_not_found");
        TestServer.Response bad = server.post(ALICE, "{\"agent_id\":\"" + id + "\",\"agent_version\":0}", "/api/v1/threads");
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.json().get("errors").findValuesAsText("field")).contains("agent_version");
    }

    @Test
    void should_render_a_websocket_chat_frames_variables_into_the_instructions() {
        // given
        String id = create(ALICE, "{\"name\":\"Support\",\"instructions\":\"You help {{customer}}.\","
                + "\"variables\":[{\"name\":\"customer\",\"required\":true}]}");
        try (WsClient ws = WsClient.connect(server, java.util.Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");

            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"none\",\"agent_id\":\"" + id + "\",\"message\":\"hi\"}");
            JsonNode missing = ws.next();
            ws.send("{\"type\":\"chat\",\"request_id\":\"given\",\"agent_id\":\"" + id + "\",\"message\":\"hi\","
                    + "\"variables\":{\"customer\":\"ACME\"}}");
            List<JsonNode> frames = ws.until("done", "error", "cancelled");

            // then
            assertThat(missing.get("code").asText()).isEqualTo("validation_failed");
            assertThat(missing.get("errors").findValuesAsText("field")).contains("variables.customer");
            assertThat(frames.get(frames.size() - 1).get("type").asText()).isEqualTo("done");
            assertThat(server.model.lastRequest().messages().get(0).text()).isEqualTo("You help ACME.");
            JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", frames.get(0).get("thread_id").asText(),
                    frames.get(0).get("run_id").asText()).json();
            assertThat(run.get("agent_version").asInt()).isEqualTo(1);
        }
    }
}
