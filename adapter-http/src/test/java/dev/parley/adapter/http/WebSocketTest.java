package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
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
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("old").build();
        server = TestServer.start(model);
        try (WsClient ws = authenticated()) {
            ws.send("{\"type\":\"chat\",\"request_id\":\"first\",\"message\":\"q1\"}");
            String thread = ws.until("run_started").get(0).get("thread_id").asText();
            assertThat(model.awaitBlocked(WAIT)).isTrue();
            // when
            ws.send("{\"type\":\"chat\",\"request_id\":\"second\",\"thread_id\":\"" + thread + "\",\"message\":\"q2\"}");
            // then
            List<JsonNode> frames = ws.until("done");
            assertThat(frames).anySatisfy(f -> {
                assertThat(f.get("type").asText()).isEqualTo("cancelled");
                assertThat(f.get("request_id").asText()).isEqualTo("first");
            });
            assertThat(frames.get(frames.size() - 1).get("request_id").asText()).isEqualTo("second");
        }
    }
}
