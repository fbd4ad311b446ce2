package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.APPROVING_AGENT;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.out.ChatStore;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The approvals route, the sync answer of a waiting run, its SSE stream across the pause, and the WebSocket {@code approval} frame. */
class ApprovalRoutesTest {
    private static final String APPROVALS = "/api/v1/threads/{thread_id}/runs/{run_id}/approvals";
    private static final String RUN = "/api/v1/threads/{thread_id}/runs/{run_id}";
    private static final ToolCall REFUND_1 = new ToolCall("call_r1", "refund", "{\"order\":\"A-1\"}");
    private static final ToolCall REFUND_2 = new ToolCall("call_r2", "refund", "{\"order\":\"B-2\"}");

    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private String cashierThread(String user) {
        var r = server.post(user, "{\"agent_id\":\"" + APPROVING_AGENT + "\"}", "/api/v1/threads");
        assertThat(r.status()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static String approval(ToolCall call, String decision, String reason) {
        return "{\"tool_call_id\":\"" + call.id() + "\",\"decision\":\"" + decision + "\""
                + (reason == null ? "" : ",\"reason\":" + TestServer.quote(reason)) + "}";
    }

    @Test
    void should_answer_a_sync_chat_at_once_with_requires_action_and_complete_the_run_once_every_call_is_decided() {
        // given
        server = TestServer.start(ScriptedChatModel.builder().callTools(REFUND_1, REFUND_2).reply("One refunded.").build());
        String thread = cashierThread(ALICE);

        // when
        var reply = server.post(ALICE, "{\"message\":\"refund A-1 and B-2\"}", "/api/v1/threads/{thread_id}/chat", thread);

        // then: answered at once, waiting
        assertThat(reply.status()).isEqualTo(200);
        JsonNode body = reply.json();
        assertThat(body.get("status").asText()).isEqualTo("requires_action");
        assertThat(body.get("required_action").get("type").asText()).isEqualTo("approve_tool_calls");
        assertThat(body.get("required_action").get("tool_calls")).extracting(c -> c.get("id").asText())
                .containsExactly("call_r1", "call_r2");
        String run = body.get("run_id").asText();
        JsonNode waiting = server.get(ALICE, RUN, thread, run).json();
        assertThat(waiting.get("status").asText()).isEqualTo("requires_action");
        assertThat(waiting.get("steps")).extracting(s -> s.get("status").asText())
                .containsExactly("completed", "awaiting_approval", "awaiting_approval");
        JsonNode listed = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0);
        assertThat(listed.get("status").asText()).isEqualTo("requires_action");
        assertThat(listed.get("required_action").get("tool_calls")).extracting(c -> c.get("id").asText())
                .containsExactly("call_r1", "call_r2");

        // when: one approved, the other denied
        var first = server.post(ALICE, approval(REFUND_1, "approve", null), APPROVALS, thread, run);
        var second = server.post(ALICE, approval(REFUND_2, "deny", "Not that one"), APPROVALS, thread, run);

        // then
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().get("status").asText()).isEqualTo("requires_action");
        assertThat(first.json().get("required_action").get("tool_calls")).extracting(c -> c.get("id").asText())
                .containsExactly("call_r2");
        assertThat(second.status()).isEqualTo(200);
        assertThat(second.json().get("required_action").isNull()).isTrue();
        TestServer.eventually("the run completed", () -> server.get(ALICE, RUN, thread, run).json().get("status").asText()
                .equals("completed"));
        JsonNode done = server.get(ALICE, RUN, thread, run).json();
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0)
                .get("required_action").isNull()).isTrue();
        assertThat(done.get("steps")).extracting(s -> s.get("status").asText())
                .containsExactly("completed", "completed", "denied", "completed");
        String replay = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, run).body();
        assertThat(replay).contains("event: approval_required", "event: approval_decided", "\"reason\":\"Not that one\"",
                "event: done");
    }

    @Test
    void should_refuse_unknown_calls_decided_calls_bad_bodies_and_other_users() {
        // given
        server = TestServer.start(ScriptedChatModel.builder().callTools(REFUND_1, REFUND_2).reply("ok").build());
        String thread = cashierThread(ALICE);
        String run = server.post(ALICE, "{\"message\":\"refund\"}", "/api/v1/threads/{thread_id}/chat", thread).json()
                .get("run_id").asText();
        server.post(ALICE, approval(REFUND_1, "approve", null), APPROVALS, thread, run);

        // when / then
        var unknown = server.post(ALICE, approval(new ToolCall("call_zz", "refund", "{}"), "approve", null), APPROVALS, thread, run);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("code").asText()).isEqualTo("tool_call_not_found");
        var again = server.post(ALICE, approval(REFUND_1, "deny", null), APPROVALS, thread, run);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.json().get("code").asText()).isEqualTo("not_awaiting_approval");
        var bad = server.post(ALICE, "{\"tool_call_id\":\"call_r2\",\"decision\":\"maybe\"}", APPROVALS, thread, run);
        assertThat(bad.status()).isEqualTo(422);
        assertThat(bad.json().get("errors").get(0).get("field").asText()).isEqualTo("decision");
        var missing = server.post(ALICE, "{\"decision\":\"approve\"}", APPROVALS, thread, run);
        assertThat(missing.status()).isEqualTo(422);
        assertThat(missing.json().get("errors").get(0).get("field").asText()).isEqualTo("tool_call_id");
        var bob = server.post(BOB, approval(REFUND_2, "approve", null), APPROVALS, thread, run);
        assertThat(bob.status()).isEqualTo(404);
        assertThat(bob.json().get("code").asText()).isEqualTo("thread_not_found");
        assertThat(server.get(ALICE, RUN, thread, run).json().get("status").asText()).isEqualTo("requires_action");
    }

    @Test
    void should_keep_an_event_stream_open_across_the_pause_until_the_run_ends() {
        // given
        server = TestServer.start(ScriptedChatModel.builder().callTools(REFUND_1).reply("Refunded.").build());
        String thread = cashierThread(ALICE);

        // when
        try (var stream = server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE)
                .json("{\"message\":\"refund A-1\",\"stream\":true}").stream()) {
            List<String> types = new ArrayList<>();
            String run = null;
            SseReader.Frame frame;
            while ((frame = stream.events().next()) != null) {
                types.add(frame.event());
                if (run == null) {
                    run = TestServer.parse(frame.data()).get("run_id").asText();
                }
                if (frame.event().equals("approval_required")) {
                    assertThat(server.post(ALICE, approval(REFUND_1, "approve", null), APPROVALS, thread, run).status())
                            .isEqualTo(200);
                }
            }

            // then
            assertThat(types.stream().distinct()).containsExactly("run_started", "trace_start", "approval_required",
                    "approval_decided", "trace_end", "token", "done");
        }
    }

    @Test
    void should_take_a_decision_sent_as_a_websocket_approval_frame() {
        // given
        server = TestServer.start(ScriptedChatModel.builder().callTools(REFUND_1).reply("Refunded.").build());
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            ws.until("session_start");
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"agent_id\":\"" + APPROVING_AGENT + "\",\"message\":\"refund A-1\"}");
            List<JsonNode> upTo = ws.until("approval_required");
            JsonNode required = upTo.get(upTo.size() - 1);
            String run = required.get("run_id").asText();

            // when
            ws.send("{\"type\":\"approval\",\"request_id\":\"a1\",\"run_id\":\"" + run
                    + "\",\"tool_call_id\":\"call_r1\",\"decision\":\"deny\",\"reason\":\"no\"}");

            // then
            List<JsonNode> rest = ws.until("done");
            assertThat(rest).extracting(f -> f.get("type").asText()).contains("approval_decided", "trace_end");
            JsonNode decided = rest.stream().filter(f -> f.get("type").asText().equals("approval_decided")).findFirst().orElseThrow();
            assertThat(decided.get("decision").asText()).isEqualTo("deny");
            assertThat(decided.get("reason").asText()).isEqualTo("no");
        }
    }

    @Test
    void should_answer_503_and_record_nothing_when_the_store_is_lost_during_a_decision_and_take_the_retry() {
        // given: a waiting run, then the store goes away
        AtomicBoolean down = new AtomicBoolean();
        server = TestServer.over(failingWhen(InMemoryAdapters.store(), down), ScriptedChatModel.builder().callTools(REFUND_1)
                .reply("Refunded.").build());
        String thread = cashierThread(ALICE);
        String run = server.post(ALICE, "{\"message\":\"refund A-1\"}", "/api/v1/threads/{thread_id}/chat", thread).json()
                .get("run_id").asText();

        // when
        down.set(true);
        var lost = server.post(ALICE, approval(REFUND_1, "approve", null), APPROVALS, thread, run);
        down.set(false);

        // then
        assertThat(lost.status()).isEqualTo(503);
        assertThat(lost.json().get("code").asText()).isEqualTo("unavailable");
        JsonNode still = server.get(ALICE, RUN, thread, run).json();
        assertThat(still.get("status").asText()).isEqualTo("requires_action");
        assertThat(still.get("steps").get(1).get("status").asText()).isEqualTo("awaiting_approval");
        var retry = server.post(ALICE, approval(REFUND_1, "approve", null), APPROVALS, thread, run);
        assertThat(retry.status()).isEqualTo(200);
        TestServer.eventually("the run completed", () -> server.get(ALICE, RUN, thread, run).json().get("status").asText()
                .equals("completed"));
        String replay = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, run).body();
        assertThat(replay.split("event: approval_decided", -1)).hasSize(2);
    }

    /** {@code store} whose every call (on it or on its stores) fails as unavailable while {@code down} is set. */
    static ChatStore failingWhen(ChatStore store, AtomicBoolean down) {
        return proxy(ChatStore.class, store, down);
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, T target, AtomicBoolean down) {
        InvocationHandler handler = (p, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(target, args);
            }
            if (down.get() && !method.getName().equals("signals")) {
                throw new StorageUnavailableException("the database is gone", null);
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            Class<?> returned = method.getReturnType();
            if (returned.isInterface() && returned.getName().startsWith("dev.parley.chat.port.out") && result != null) {
                return proxy((Class<Object>) returned, result, down);
            }
            return result;
        };
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
