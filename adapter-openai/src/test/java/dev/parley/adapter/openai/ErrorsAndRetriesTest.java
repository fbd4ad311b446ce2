package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ChatModel;
import static dev.parley.adapter.openai.Conversations.ask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.parley.chat.model.ModelException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Error statuses, malformed and broken streams, and when the model tries again. */
class ErrorsAndRetriesTest {

    /** One call of {@code model}: here {@link ChatModel#complete}; the asynchronous twin of this test makes it with {@code completeAsync}. */
    ModelResponse complete(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return model.complete(request, listener, cancellation);
    }
    private static final String KEY = "sk-proj-abcDEF123456789secret";
    private final FakeChatServer server = new FakeChatServer();
    private final RecordingListener listener = new RecordingListener();

    @AfterEach
    void stop() {
        server.close();
    }

    private OpenAiChatModel.Builder model() {
        return OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey(KEY).model("gpt-4o-mini")
                .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(20));
    }

    private ModelException failure(OpenAiChatModel model) {
        return catchThrowableOfType(ModelException.class,
                () -> complete(model, ask("Hi"), listener, new Cancellation()));
    }

    @ParameterizedTest(name = "HTTP {0} -> {1}")
    @CsvSource({
            "400, model_error",
            "401, model_auth",
            "403, model_auth",
            "404, model_not_found",
            "422, model_error",
            "429, model_rate_limited",
            "500, model_upstream",
            "502, model_upstream",
            "503, model_upstream"})
    void should_map_each_error_status_to_its_code(int status, String code) {
        // given
        server.then(FakeChatServer.json(status, "{\"error\":{\"message\":\"upstream says no\",\"type\":\"x\",\"code\":null}}"));

        // when
        ModelException e = failure(model().maxRetries(0).build());

        // then
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.getMessage()).contains("HTTP " + status).contains("upstream says no");
        assertThat(server.received()).hasSize(1);
    }

    @Test
    void should_keep_only_a_short_sanitized_excerpt_of_the_upstream_error() {
        // given
        String body = "{\"error\":{\"message\":\"Incorrect API key provided: " + KEY
                + ". You can find your API key at https://platform.example/account/api-keys. "
                + "x".repeat(5000) + "\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}";
        server.then(FakeChatServer.json(401, body));

        // when
        ModelException e = failure(model().build());

        // then
        assertThat(e.code()).isEqualTo("model_auth");
        assertThat(e.getMessage()).doesNotContain(KEY).doesNotContain("sk-proj").contains("Incorrect API key provided");
        assertThat(e.getMessage().length()).isLessThan(300);
    }

    @Test
    void should_keep_a_short_excerpt_of_a_body_that_is_not_json() {
        // given
        server.then(FakeChatServer.json(502, "<html><body>Bad gateway" + "!".repeat(10_000) + "</body></html>"));

        // when
        ModelException e = failure(model().maxRetries(0).build());

        // then
        assertThat(e.code()).isEqualTo("model_upstream");
        assertThat(e.getMessage().length()).isLessThan(300);
    }

    @Test
    void should_retry_after_429_honouring_retry_after_then_succeed() {
        // given
        server.then(FakeChatServer.json(429, "{\"error\":{\"message\":\"Rate limit reached\"}}", "Retry-After", "1"))
                .then(FakeChatServer.events(Transcripts.OPENAI_TEXT));

        // when
        ModelResponse response = complete(model().build(), ask("Hi"), listener, new Cancellation());

        // then
        assertThat(response.text()).isEqualTo("Hello! How can I help?");
        List<FakeChatServer.Received> requests = server.received();
        assertThat(requests).hasSize(2);
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(requests.get(1).atNanos() - requests.get(0).atNanos());
        assertThat(waitedMillis).isGreaterThanOrEqualTo(950);
    }

    @Test
    void should_honour_retry_after_ms() {
        // given
        server.then(FakeChatServer.json(503, "{}", "retry-after-ms", "50"))
                .then(FakeChatServer.events(Transcripts.OPENAI_TEXT));

        // when
        ModelResponse response = complete(model().build(), ask("Hi"), listener, new Cancellation());

        // then
        assertThat(response.text()).isNotEmpty();
        List<FakeChatServer.Received> requests = server.received();
        assertThat(TimeUnit.NANOSECONDS.toMillis(requests.get(1).atNanos() - requests.get(0).atNanos()))
                .isGreaterThanOrEqualTo(45);
    }

    @Test
    void should_give_up_after_max_retries_of_5xx() {
        // given
        for (int i = 0; i < 3; i++) {
            server.then(FakeChatServer.json(503, "{\"error\":{\"message\":\"overloaded\"}}"));
        }

        // when
        ModelException e = failure(model().maxRetries(2).build());

        // then
        assertThat(e.code()).isEqualTo("model_upstream");
        assertThat(server.received()).hasSize(3);
    }

    @Test
    void should_fail_at_once_when_retry_after_is_longer_than_allowed() {
        // given
        server.then(FakeChatServer.json(429, "{\"error\":{\"message\":\"slow down\"}}", "Retry-After", "120"));

        // when
        ModelException e = failure(model().maxRetryAfter(Duration.ofSeconds(30)).build());

        // then
        assertThat(e.code()).isEqualTo("model_rate_limited");
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(120));
        assertThat(server.received()).hasSize(1);
    }

    @Test
    void should_not_retry_client_errors() {
        // given
        server.then(FakeChatServer.json(400, "{\"error\":{\"message\":\"bad\"}}"));

        // when
        ModelException e = failure(model().maxRetries(3).build());

        // then
        assertThat(e.code()).isEqualTo("model_error");
        assertThat(server.received()).hasSize(1);
    }

    @Test
    void should_retry_connection_failures_and_then_report_the_server_unreachable() throws IOException {
        // given
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        OpenAiChatModel model = model().baseUrl("http://127.0.0.1:" + closedPort + "/v1").maxRetries(2).build();

        // when
        ModelException e = failure(model);

        // then
        assertThat(e.code()).isEqualTo("model_upstream");
        assertThat(e.getMessage()).contains("connect");
    }

    @Test
    void should_not_retry_when_the_connection_drops_after_the_first_token() throws Exception {
        // given
        try (RawHttpServer raw = new RawHttpServer()) {
            raw.then(c -> {
                c.sseHead();
                c.chunk("data: " + Transcripts.textDelta("Hel") + "\n\n");
                c.chunk("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo wor");
                c.drop();
            });
            OpenAiChatModel model = model().baseUrl(raw.baseUrl()).maxRetries(3).build();

            // when
            ModelException e = failure(model);

            // then
            assertThat(e.code()).isEqualTo("model_connection_lost");
            assertThat(listener.tokens).containsExactly("Hel");
            assertThat(raw.requests()).isEqualTo(1);
        }
    }

    @Test
    void should_report_a_stream_that_stops_without_done_as_connection_lost() {
        // given
        server.then(FakeChatServer.events(List.of(Transcripts.textDelta("Partial"), Transcripts.textDelta(" answer"))));

        // when
        ModelException e = failure(model().build());

        // then
        assertThat(e.code()).isEqualTo("model_connection_lost");
        assertThat(listener.text()).isEqualTo("Partial answer");
        assertThat(server.received()).hasSize(1);
    }

    @Test
    void should_report_a_malformed_event_as_a_bad_response() {
        // given
        server.then(FakeChatServer.events(List.of(Transcripts.textDelta("ok"), "{\"choices\":[{\"index\":0,", "[DONE]")));

        // when
        ModelException e = failure(model().build());

        // then
        assertThat(e.code()).isEqualTo("model_bad_response");
        assertThat(e.getMessage()).doesNotContain("choices");
    }

    @Test
    void should_report_an_error_event_inside_the_stream_as_upstream_failure() {
        // given
        server.then(FakeChatServer.events(List.of(Transcripts.textDelta("I was"),
                "{\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\"}}")));

        // when
        ModelException e = failure(model().build());

        // then
        assertThat(e.code()).isEqualTo("model_upstream");
        assertThat(e.getMessage()).contains("The server had an error");
        assertThat(server.received()).hasSize(1);
    }

    @Test
    void should_report_a_vllm_error_object_inside_the_stream_as_upstream_failure() {
        // given
        server.then(FakeChatServer.events(List.of(
                "{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}")));

        // when
        ModelException e = failure(model().build());

        // then
        assertThat(e.code()).isEqualTo("model_upstream");
        assertThat(e.getMessage()).contains("maximum context length");
    }

    @Test
    void should_report_a_tool_call_without_a_name_as_a_bad_response() {
        // given
        server.then(FakeChatServer.events(List.of(
                "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}",
                "[DONE]")));

        // when
        ModelException e = failure(model().build());

        // then
        assertThat(e.code()).isEqualTo("model_bad_response");
    }
}
