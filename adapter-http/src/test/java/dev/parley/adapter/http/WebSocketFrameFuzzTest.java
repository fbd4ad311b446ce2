package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.port.out.Agent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any text frame, on an authenticated socket or not, is answered with error frames or handled
 * (pong, session start, a chat's events, a cancel), never with an unexpected failure: no
 * {@code internal_error} frame and no exception out of the endpoint. The socket is a fake
 * connection to the real endpoint over the real ChatService, in-memory adapters and an echo model.
 *
 * <p>The first byte of an input says whether the socket authenticated first ({@code U}: not; any
 * other byte: yes); the rest is the frame's text in UTF-8. Runs its seeds
 * ({@code WebSocketFrameFuzzTestInputs/<method>/}) in every build; fuzz for real with
 * {@code JAZZER_FUZZ=1 mvn -pl adapter-http -am test -Dtest=WebSocketFrameFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class WebSocketFrameFuzzTest {
    private static final Queue<String> FRAMES = new ConcurrentLinkedQueue<>();
    private static ChatService chat;
    private static WsEndpoint endpoint;

    @BeforeAll
    static void start() {
        var store = InMemoryAdapters.store();
        chat = ChatService.builder().store(store).model(ScriptedChatModel.echo())
                .agents(List.of(Agent.builder("assistant").name("Assistant").instructions("You help.").build())).build();
        ParleyHttp.Config config = ParleyHttp.config(chat, JwtAuthenticator.hs256(Tokens.SECRET).build())
                .rateLimitPerMinute(0)
                .maxMessageChars(500)
                // every input authenticates a socket of its own that never closes: no stream limit here
                .maxStreamsPerUser(0)
                .build();
        endpoint = new WsEndpoint(config, new Credentials(config.authenticator(), config.rateLimiter()),
                new ChatFlow(chat, config.metrics(), config.heartbeatInterval(), config.streamLimits()));
    }

    @AfterAll
    static void stopAndCheckEveryFrame() {
        endpoint.shutdown();
        chat.close();
        for (String frame : FRAMES) {
            JsonNode json = TestServer.parse(frame);
            assertThat(json.path("code").asText()).as(frame).isNotIn("internal_error", "run_failed");
        }
    }

    @FuzzTest(maxDuration = "2m")
    void should_answer_any_text_frame_with_error_frames_or_handle_it(byte[] input) {
        // given
        RecordingConnection connection = new RecordingConnection();
        WsSocket socket = new WsSocket(connection);
        boolean authenticate = input.length == 0 || input[0] != 'U';
        if (authenticate) {
            endpoint.onText(socket, "{\"type\":\"auth\",\"token\":\"" + Tokens.forUser("fuzz") + "\"}");
            assertThat(connection.frames.poll()).contains("\"session_start\"");
        }
        String text = new String(input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length), StandardCharsets.UTF_8);

        // when
        endpoint.onText(socket, text);

        // then: what was answered at once is well-formed; later frames (a chat's events) are checked at the end
        for (String frame : connection.frames) {
            JsonNode json = TestServer.parse(frame);
            assertThat(json.isObject()).as(frame).isTrue();
            assertThat(json.path("type").asText()).as(frame).isNotBlank();
            if (json.path("type").asText().equals("error")) {
                assertThat(json.path("code").asText()).as(frame).isNotBlank().isNotEqualTo("internal_error");
            }
        }
    }

    /** A connection that is always open and records the frames sent on it. */
    private static final class RecordingConnection implements WsSocket.Connection {
        final Queue<String> frames = new ConcurrentLinkedQueue<>();

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void sendText(String text, Callback done) {
            frames.add(text);
            FRAMES.add(text);
            done.succeed();
        }

        @Override
        public void close(int code, String reason) {
            FRAMES.add("{\"type\":\"closed\",\"code\":" + code + "}");
        }

        @Override
        public void disconnect() {
        }
    }
}
