package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket {@code chat} frame takes the chat options of the REST route: {@code if_busy}
 * (default {@code interrupt} on the socket, see {@link WebSocketTest}) and {@code on_disconnect}
 * (default {@code continue}).
 */
class WebSocketChatOptionsTest {
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private WsClient authenticated() {
        WsClient ws = WsClient.connect(server, Map.of());
        ws.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(ALICE) + "\"}");
        assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
        return ws;
    }

    @Test
    void should_refuse_a_chat_that_asks_to_be_rejected_on_a_busy_thread_and_let_the_active_run_finish() throws Exception {
        // given: a run that has streamed "old" and waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("old").build();
        server = TestServer.start(model);
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"first\",\"message\":\"q1\"}");
            List<JsonNode> frames = new ArrayList<>(ws.until("run_started"));
            String thread = frames.get(0).get("thread_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();

            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"second\",\"thread_id\":\"" + thread + "\",\"message\":\"q2\",\"if_busy\":\"reject\"}");
            JsonNode refused = nextOf(ws, "second", frames);

            // then: the chat is refused as the REST route refuses it, and the active run goes on to its end
            assertThat(refused.get("type").asText()).isEqualTo("error");
            assertThat(refused.get("code").asText()).isEqualTo("run_in_progress");
            model.release();
            frames.addAll(ws.untilEnded("first"));
            assertThat(frames).filteredOn(f -> f.has("run_id")).extracting(f -> f.get("type").asText())
                    .containsExactly("run_started", "token", "done");
            assertThat(history(thread)).containsExactly("user:q1", "assistant:old");
        }
    }

    @Test
    void should_queue_a_chat_that_asks_to_be_enqueued_behind_the_active_run() throws Exception {
        // given: a run that has streamed "first" and waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("first").build();
        server = TestServer.start(model);
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"message\":\"q1\"}");
            List<JsonNode> frames = new ArrayList<>(ws.until("run_started"));
            String thread = frames.get(0).get("thread_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();

            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"r2\",\"thread_id\":\"" + thread + "\",\"message\":\"q2\",\"if_busy\":\"enqueue\"}");

            // then: the new run waits, queued, without cancelling the active one
            TestServer.eventually("the second run is queued", () -> {
                JsonNode runs = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data");
                return runs.size() == 2 && runs.get(0).get("status").asText().equals("queued");
            });
            model.release();
            frames.addAll(ws.untilEnded("r1", "r2"));
            List<JsonNode> first = ofRequest(frames, "r1");
            List<JsonNode> second = ofRequest(frames, "r2");
            assertThat(first).extracting(f -> f.get("type").asText()).containsExactly("run_started", "token", "done");
            assertThat(second).extracting(f -> f.get("type").asText()).containsExactly("run_started", "token", "done");
            assertThat(frames.indexOf(second.get(0))).isGreaterThan(frames.indexOf(first.get(first.size() - 1)));
            assertThat(history(thread)).containsExactlyInAnyOrder("user:q1", "assistant:first", "user:q2", "assistant:q2");
        }
    }

    @Test
    void should_cancel_the_run_when_a_socket_whose_chat_asked_for_it_goes_away() throws Exception {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("x").build();
        server = TestServer.start(model);
        String thread;
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"message\":\"hi\",\"on_disconnect\":\"cancel\"}");
            thread = ws.until("run_started").get(0).get("thread_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();
        }
        TestServer.eventually("the run is cancelled", () -> "cancelled".equals(
                server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("status").asText()));
    }

    @Test
    void should_let_the_run_go_on_when_a_socket_goes_away_by_default() throws Exception {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("x").build();
        server = TestServer.start(model);
        String thread;
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"message\":\"hi\"}");
            thread = ws.until("run_started").get(0).get("thread_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();
        }
        model.release();
        TestServer.eventually("the run completes", () -> "completed".equals(
                server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("status").asText()));
    }

    @Test
    void should_answer_unknown_chat_options_with_a_validation_error() {
        server = TestServer.start(ScriptedChatModel.echo());
        try (WsClient ws = authenticated()) {
            ws.sendRaw("{\"type\":\"chat\",\"request_id\":\"r\",\"message\":\"hi\",\"if_busy\":\"sometimes\",\"on_disconnect\":\"maybe\"}");
            JsonNode error = ws.next();
            assertThat(error.get("code").asText()).isEqualTo("validation_failed");
            assertThat(error.get("errors")).extracting(e -> e.get("field").asText()).containsExactly("if_busy", "on_disconnect");
            assertThat(error.get("request_id").asText()).isEqualTo("r");
        }
    }

    /** The next frame of {@code requestId}, keeping the frames of other requests read meanwhile in {@code others}. */
    private static JsonNode nextOf(WsClient ws, String requestId, List<JsonNode> others) {
        while (true) {
            JsonNode frame = ws.next();
            if (frame.has("request_id") && frame.get("request_id").asText().equals(requestId)) {
                return frame;
            }
            others.add(frame);
        }
    }

    private List<String> history(String thread) {
        List<String> history = new ArrayList<>();
        server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data").forEach(m ->
                history.add(m.get("role").asText() + ":" + m.get("content").get(0).get("text").asText()));
        return history;
    }

    private static List<JsonNode> ofRequest(List<JsonNode> frames, String requestId) {
        return frames.stream().filter(f -> f.has("request_id") && f.get("request_id").asText().equals(requestId)).toList();
    }
}
