package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ToolCall;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The trash (list, restore, delete forever), usage and cost on threads and steps, the usage report and budgets. */
class TrashAndUsageRoutesTest {
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String admin() {
        return "Bearer " + Tokens.with("root", c -> c.claim("roles", List.of("admin")));
    }

    @Test
    void should_list_restore_and_delete_forever_a_thread_in_the_trash() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        String first = server.newThread(ALICE);
        String second = server.newThread(ALICE);
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}", first).status()).isEqualTo(204);
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}", second).status()).isEqualTo(204);
        // when
        JsonNode trash = server.get(ALICE, "/api/v1/threads?status=deleted").json();
        // then: newest deletion first, with deleted_at; the live list no longer has them
        assertThat(trash.get("data")).hasSize(2);
        assertThat(trash.get("data").get(0).get("id").asText()).isEqualTo(second);
        assertThat(trash.get("data").get(0).get("deleted_at").asText()).endsWith("Z");
        assertThat(server.get(ALICE, "/api/v1/threads?status=active").json().get("data")).isEmpty();
        assertThat(server.get(BOB, "/api/v1/threads?status=deleted").json().get("data")).isEmpty();
        // another user's thread in the trash is 404 like a missing one
        var bobs = server.post(BOB, "{}", "/api/v1/threads/{thread_id}/restore", first);
        assertThat(bobs.status()).isEqualTo(404);
        assertThat(bobs.json().get("code").asText()).isEqualTo("thread_not_found");
        // restore
        var restored = server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/restore", first);
        assertThat(restored.status()).isEqualTo(200);
        assertThat(restored.json().get("id").asText()).isEqualTo(first);
        assertThat(restored.json().has("deleted_at")).isFalse();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}", first).status()).isEqualTo(200);
        assertThat(server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/restore", first).status()).isEqualTo(404);
        // delete forever from the trash
        assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}?hard=true", second).status()).isEqualTo(204);
        assertThat(server.get(ALICE, "/api/v1/threads?status=deleted").json().get("data")).isEmpty();
        assertThat(server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/restore", second).status()).isEqualTo(404);
    }

    @Test
    void should_refuse_an_unknown_status_and_an_agent_filter_on_the_trash() {
        server = TestServer.start(ScriptedChatModel.echo());
        var bad = server.get(ALICE, "/api/v1/threads?status=archived");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().get("errors").get(0).get("field").asText()).isEqualTo("status");
        var filtered = server.get(ALICE, "/api/v1/threads?status=deleted&agent_id=assistant");
        assertThat(filtered.status()).isEqualTo(400);
        assertThat(filtered.json().get("errors").get(0).get("field").asText()).isEqualTo("agent_id");
    }

    @Test
    void should_show_tokens_and_cost_on_threads_runs_and_steps_and_report_them() {
        // given: prices of 1 and 2 USD per million input and output tokens (TestServer)
        server = TestServer.start(ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}")).usage(1000, 200)
                .reply("42").usage(3000, 500).build());
        String thread = server.newThread(ALICE);
        JsonNode reply = server.chat(ALICE, thread, "What is 6*7?");
        // when
        JsonNode t = server.get(ALICE, "/api/v1/threads/{thread_id}", thread).json();
        JsonNode listed = server.get(ALICE, "/api/v1/threads").json().get("data").get(0);
        JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, reply.get("run_id").asText()).json();
        JsonNode report = server.get(ALICE, "/api/v1/usage?group_by=agent").json();
        // then: 4000 in, 700 out: 0.004 + 0.0014
        assertThat(t.get("usage").get("input_tokens").asLong()).isEqualTo(4000);
        assertThat(t.get("usage").get("output_tokens").asLong()).isEqualTo(700);
        assertThat(t.get("usage").get("total_tokens").asLong()).isEqualTo(4700);
        assertThat(t.get("cost_usd").decimalValue()).isEqualByComparingTo("0.0054");
        assertThat(listed.get("cost_usd").decimalValue()).isEqualByComparingTo("0.0054");
        BigDecimal steps = BigDecimal.ZERO;
        for (JsonNode step : run.get("steps")) {
            steps = steps.add(step.get("cost_usd").decimalValue());
        }
        assertThat(steps).isEqualByComparingTo(run.get("cost_usd").decimalValue());
        assertThat(report.get("object").asText()).isEqualTo("usage");
        assertThat(report.get("group_by").asText()).isEqualTo("agent");
        assertThat(report.get("data").get(0).get("group").asText()).isEqualTo(TestServer.AGENT);
        assertThat(report.get("data").get(0).get("runs").asLong()).isEqualTo(1);
        assertThat(report.get("total").get("cost_usd").decimalValue()).isEqualByComparingTo("0.0054");
        YearMonth month = YearMonth.now(ZoneOffset.UTC);
        assertThat(Instant.parse(report.get("from").asText())).isEqualTo(month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant());
    }

    @Test
    void should_show_cached_input_tokens_wherever_usage_is_shown() {
        // given: a turn whose 3000 input tokens were 2500 read from the prompt cache
        server = TestServer.start(ScriptedChatModel.builder().reply("cached").usage(3000, 500, 2500).build());
        String thread = server.newThread(ALICE);
        // when
        JsonNode reply = server.chat(ALICE, thread, "Again?");
        String runId = reply.get("run_id").asText();
        JsonNode t = server.get(ALICE, "/api/v1/threads/{thread_id}", thread).json();
        JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, runId).json();
        JsonNode answer = server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=desc&limit=1", thread).json()
                .get("data").get(0);
        JsonNode report = server.get(ALICE, "/api/v1/usage?group_by=thread").json();
        // then
        for (JsonNode usage : List.of(reply.get("usage"), t.get("usage"), run.get("usage"), run.get("steps").get(0).get("usage"),
                answer.get("usage"), report.get("data").get(0), report.get("total"))) {
            assertThat(usage.get("input_cached_tokens").asLong()).as(usage.toString()).isEqualTo(2500);
            assertThat(usage.get("input_tokens").asLong()).as(usage.toString()).isEqualTo(3000);
        }
    }

    @Test
    void should_report_other_users_to_admins_only_and_refuse_bad_ranges() {
        // given
        server = TestServer.start(ScriptedChatModel.echo());
        server.chat(ALICE, server.newThread(ALICE), "hello");
        server.chat(BOB, server.newThread(BOB), "hello");
        // when
        var forbidden = server.get(ALICE, "/api/v1/usage?user_id=bob");
        var byUserForbidden = server.get(ALICE, "/api/v1/usage?group_by=user");
        var byUser = server.request("GET", "/api/v1/usage?group_by=user").header("Authorization", admin()).send();
        var bobs = server.request("GET", "/api/v1/usage?user_id=bob&group_by=model").header("Authorization", admin()).send();
        // then
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.json().get("code").asText()).isEqualTo("forbidden");
        assertThat(byUserForbidden.status()).isEqualTo(403);
        assertThat(byUser.status()).isEqualTo(200);
        assertThat(byUser.json().get("data")).extracting(r -> r.get("group").asText()).containsExactly(ALICE, BOB);
        assertThat(bobs.json().get("total").get("runs").asLong()).isEqualTo(1);
        for (String query : List.of("from=yesterday", "from=2026-01-01T00:30:00Z", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                "group_by=week", "user_id=")) {
            var r = server.get(ALICE, "/api/v1/usage?" + query);
            assertThat(r.status()).as(query).isEqualTo(400);
            assertThat(r.json().get("code").asText()).as(query).isEqualTo("invalid_parameter");
        }
    }

    @Test
    void should_refuse_a_chat_over_budget_with_429_and_retry_after() {
        // given: a budget of a hundredth of a cent, used up by one answer
        server = TestServer.start(ScriptedChatModel.builder().reply("expensive").usage(1000, 1000).build(),
                b -> b.monthlyBudgetUsd(new BigDecimal("0.0001")), c -> c);
        String thread = server.newThread(ALICE);
        server.chat(ALICE, thread, "first");
        // when
        var refused = server.post(ALICE, "{\"message\":\"second\"}", "/api/v1/threads/{thread_id}/chat", thread);
        // then
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.json().get("code").asText()).isEqualTo("budget_exceeded");
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertThat(retryAfter).isPositive().isLessThanOrEqualTo(31L * 24 * 3600);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).hasSize(2);
    }
}
