package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ModelSettings;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.port.out.ModelRequest;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WebSocketTest {
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
    void should_authenticate_with_the_first_frame_and_stream_a_chat_with_its_request_id() {
        server = TestServer.start(ScriptedChatModel.builder().replyTokens("Hi", " there").build());
        try (WsClient ws = WsClient.connect(server, Map.of())) {
            ws.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(ALICE) + "\"}");
            JsonNode start = ws.next();
            assertThat(start.get("type").asText()).isEqualTo("session_start");
            assertThat(start.get("session_id").asText()).isNotBlank();
            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"message\":\"hello\"}");
            List<JsonNode> frames = ws.until("done", "error", "cancelled");
            // then
            assertThat(frames).extracting(f -> f.get("type").asText()).containsExactly("run_started", "token", "token", "done");
            assertThat(frames).allSatisfy(f -> assertThat(f.get("request_id").asText()).isEqualTo("r1"));
            String thread = frames.get(0).get("thread_id").asText();
            JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
            assertThat(messages.get(1).get("content").get(0).get("text").asText()).isEqualTo("Hi there");
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("type").asText()).isEqualTo("pong");
        }
    }

    @Test
    void should_send_a_chat_frames_own_model_settings_to_the_model() {
        server = TestServer.start(ScriptedChatModel.echo());
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
            // when
            ws.send("{\"type\":\"chat\",\"message\":\"hi\",\"model_settings\":{\"temperature\":0.1,\"max_output_tokens\":5}}");
            ws.until("done", "error", "cancelled");
            ws.sendRaw("{\"type\":\"chat\",\"message\":\"hi\",\"model_settings\":{\"temperature\":9}}");
            // then
            assertThat(server.model.lastRequest().settings()).isEqualTo(new ModelSettings(0.1, 5, null));
            JsonNode refused = ws.next();
            assertThat(refused.get("code").asText()).isEqualTo("validation_failed");
            assertThat(refused.get("errors").get(0).get("field").asText()).isEqualTo("model_settings.temperature");
        }
    }

    @Test
    void should_authenticate_with_an_authorization_header() {
        server = TestServer.start(ScriptedChatModel.echo());
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
        }
    }

    @Test
    void should_answer_bad_frames_with_an_error_and_keep_the_socket_open() {
        server = TestServer.start(ScriptedChatModel.echo());
        try (WsClient ws = WsClient.connect(server, Map.of())) {
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("unauthorized");
            ws.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(ALICE) + "\"}");
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
            ws.sendRaw("not json");
            assertThat(ws.next().get("code").asText()).isEqualTo("invalid_json");
            ws.sendRaw("{\"type\":\"dance\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("unknown_type");
            ws.sendRaw("{\"no_type\":true}");
            assertThat(ws.next().get("code").asText()).isEqualTo("validation_failed");
            ws.sendRaw("{\"type\":\"chat\",\"request_id\":\"r2\"}");
            JsonNode missing = ws.next();
            assertThat(missing.get("code").asText()).isEqualTo("validation_failed");
            assertThat(missing.get("errors").get(0).get("field").asText()).isEqualTo("message");
            assertThat(missing.get("request_id").asText()).isEqualTo("r2");
            ws.sendRaw("{\"type\":\"chat\",\"message\":\"hi\",\"thread_id\":\"thr_missing\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("thread_not_found");
            ws.send("{\"type\":\"cancel\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("no_active_run");
            ws.send("{\"type\":\"ping\",\"request_id\":\"p\"}");
            JsonNode pong = ws.next();
            assertThat(pong.get("type").asText()).isEqualTo("pong");
            assertThat(pong.get("request_id").asText()).isEqualTo("p");
        }
    }

    @Test
    void should_close_with_4401_on_a_bad_token() {
        server = TestServer.start(ScriptedChatModel.echo());
        try (WsClient ws = WsClient.connect(server, Map.of())) {
            ws.send("{\"type\":\"auth\",\"token\":\"" + Tokens.unsigned(Tokens.claims(ALICE)) + "\"}");
            assertThat(ws.next().get("code").asText()).isEqualTo("unauthorized");
            assertThat(ws.closeCode()).isEqualTo(4401);
        }
    }

    @Test
    void should_close_an_unauthenticated_socket_with_4401_after_the_timeout() {
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.webSocketAuthTimeout(Duration.ofMillis(200)));
        try (WsClient ws = WsClient.connect(server, Map.of())) {
            assertThat(ws.closeCode()).isEqualTo(4401);
        }
    }

    @Test
    void should_refuse_an_origin_that_is_not_allowed() {
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.webSocketOrigins("https://app.example"));
        assertThatThrownBy(() -> WsClient.connect(server, Map.of("Origin", "https://evil.example")))
                .isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode()).isEqualTo(403));
        server.contract.record("GET", "/api/v1/ws", 403);
        try (WsClient ws = WsClient.connect(server, Map.of("Origin", "https://app.example"))) {
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("type").asText()).isEqualTo("error");
        }
    }

    @Test
    void should_cancel_the_sockets_active_run() {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("par", "tial").build();
        server = TestServer.start(model);
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"message\":\"hello\"}");
            ws.until("token");
            ws.until("token");
            // when
            ws.send("{\"type\":\"cancel\"}");
            // then
            List<JsonNode> rest = ws.until("cancelled", "done", "error");
            JsonNode cancelled = rest.get(rest.size() - 1);
            assertThat(cancelled.get("type").asText()).isEqualTo("cancelled");
            assertThat(cancelled.get("message_id").asText()).startsWith("msg_");
        }
    }

    @Test
    void should_interrupt_the_active_run_when_a_new_chat_arrives_on_its_thread() throws Exception {
        // given: a run that has streamed "old" and waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("old").build();
        server = TestServer.start(model);
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"first\",\"message\":\"q1\"}");
            List<JsonNode> frames = new ArrayList<>(ws.until("run_started"));
            String thread = frames.get(0).get("thread_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();

            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"second\",\"thread_id\":\"" + thread + "\",\"message\":\"q2\"}");
            frames.addAll(ws.untilEnded("first", "second"));

            // then: the old run ends with cancelled after what it had streamed, and nothing of it follows
            List<JsonNode> old = ofRequest(frames, "first");
            assertThat(old).extracting(f -> f.get("type").asText()).containsExactly("run_started", "token", "cancelled");
            assertThat(old).extracting(f -> f.get("seq").asLong()).containsExactly(1L, 2L, 3L);
            // the new run is complete, and starts only after the old one's end
            List<JsonNode> fresh = ofRequest(frames, "second");
            assertThat(fresh).extracting(f -> f.get("type").asText()).containsExactly("run_started", "token", "done");
            assertThat(fresh).extracting(f -> f.get("seq").asLong()).containsExactly(1L, 2L, 3L);
            assertThat(fresh).extracting(f -> f.get("run_id").asText()).containsOnly(fresh.get(0).get("run_id").asText())
                    .doesNotContain(old.get(0).get("run_id").asText());
            assertThat(frames.indexOf(fresh.get(0))).isGreaterThan(frames.indexOf(old.get(old.size() - 1)));
            ws.send("{\"type\":\"ping\"}");
            assertThat(ws.next().get("type").asText()).isEqualTo("pong");
            // and the history keeps the partial answer
            List<String> history = new ArrayList<>();
            server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data").forEach(m -> history.add(
                    m.get("role").asText() + ":" + m.get("content").get(0).get("text").asText() + ":" + m.get("status").asText()));
            assertThat(history).containsExactly("user:q1:completed", "assistant:old:incomplete", "user:q2:completed",
                    "assistant:q2:completed");
        }
    }

    @Test
    void should_cancel_the_run_of_a_chat_sent_right_before_the_cancel() {
        // given: runs that stream nothing until cancelled
        server = TestServer.start(ScriptedChatModel.builder().respondWith(request -> Script.hangUntilCancelled()).build());
        try (WsClient ws = authenticated()) {
            // when: the cancel follows the chat before any frame of its run came back
            ws.send("{\"type\":\"chat\",\"request_id\":\"c1\",\"message\":\"hello\"}");
            ws.send("{\"type\":\"cancel\",\"request_id\":\"x\"}");
            // then: the cancel found that run (rather than answering no_active_run)
            List<JsonNode> frames = ws.until("done", "error", "cancelled");
            JsonNode last = frames.get(frames.size() - 1);
            assertThat(last.get("type").asText()).as(last.toString()).isEqualTo("cancelled");
            assertThat(last.get("request_id").asText()).isEqualTo("c1");
        }
    }

    @Test
    void should_let_the_later_of_two_chats_sent_back_to_back_on_a_thread_interrupt_the_earlier() {
        // given: q1 is answered only when cancelled, everything else is echoed
        server = TestServer.start(ScriptedChatModel.builder().respondWith(request ->
                lastUserText(request).equals("q1") ? Script.hangUntilCancelled() : Script.reply(lastUserText(request))).build());
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"setup\",\"message\":\"q0\"}");
            String thread = ws.untilEnded("setup").get(0).get("thread_id").asText();
            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"r1\",\"thread_id\":\"" + thread + "\",\"message\":\"q1\"}");
            ws.send("{\"type\":\"chat\",\"request_id\":\"r2\",\"thread_id\":\"" + thread + "\",\"message\":\"q2\"}");
            // then: q1's run ends first, cancelled, before any frame of q2's run
            List<JsonNode> first = ws.until("done", "error", "cancelled");
            JsonNode ended = first.get(first.size() - 1);
            assertThat(ended.get("type").asText()).as(ended.toString()).isEqualTo("cancelled");
            assertThat(ended.get("request_id").asText()).isEqualTo("r1");
            assertThat(ofRequest(first, "r2")).isEmpty();
            List<JsonNode> second = ws.untilEnded("r2");
            assertThat(second).extracting(f -> f.get("type").asText()).containsExactly("run_started", "token", "done");
            assertThat(ofRequest(second, "r1")).isEmpty();
            List<String> history = new ArrayList<>();
            server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data").forEach(m ->
                    history.add(m.get("role").asText() + ":" + m.get("content").get(0).get("text").asText()));
            assertThat(history).containsExactly("user:q0", "assistant:q0", "user:q1", "user:q2", "assistant:q2");
        }
    }

    // ---- chat options: if_busy (default interrupt, above) and on_disconnect (default continue) ----

    @Test
    void should_refuse_a_chat_that_asks_to_be_rejected_on_a_busy_thread_and_let_the_active_run_finish() throws Exception {
        // given: a run that has streamed "old" and waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("old").build();
        server = TestServer.start(model);
        try (WsClient ws = authenticated()) {
            List<JsonNode> frames = new ArrayList<>();
            String thread = blockedRun(ws, model, "first", frames);

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
            List<JsonNode> frames = new ArrayList<>();
            String thread = blockedRun(ws, model, "r1", frames);

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

    /** Sends q1 as {@code requestId} and waits until its run has streamed and waits in the model; its thread. */
    private static String blockedRun(WsClient ws, ScriptedChatModel model, String requestId, List<JsonNode> frames)
            throws InterruptedException {
        ws.send("{\"type\":\"chat\",\"request_id\":\"" + requestId + "\",\"message\":\"q1\"}");
        frames.addAll(ws.until("run_started"));
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        return frames.get(0).get("thread_id").asText();
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

    private static String lastUserText(ModelRequest request) {
        List<Message> messages = request.messages();
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return messages.get(i).text();
            }
        }
        return "";
    }

    private static List<JsonNode> ofRequest(List<JsonNode> frames, String requestId) {
        return frames.stream().filter(f -> f.has("request_id") && f.get("request_id").asText().equals(requestId)).toList();
    }
}
