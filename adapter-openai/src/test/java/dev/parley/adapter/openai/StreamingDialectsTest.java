package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ChatModel;
import static dev.parley.adapter.openai.Conversations.ask;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Replays each server family's stream transcript through the model. */
class StreamingDialectsTest {

    /** One call of {@code model}: here {@link ChatModel#complete}; the asynchronous twin of this test makes it with {@code completeAsync}. */
    ModelResponse complete(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return model.complete(request, listener, cancellation);
    }
    private final FakeChatServer server = new FakeChatServer();
    private final RecordingListener listener = new RecordingListener();

    @AfterEach
    void stop() {
        server.close();
    }

    private OpenAiChatModel.Builder model() {
        return OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey("test-key").model("gpt-4o-mini");
    }

    @Test
    void should_assemble_parallel_tool_calls_and_usage_from_an_openai_stream() {
        // given
        server.then(FakeChatServer.events(Transcripts.OPENAI_PARALLEL_TOOL_CALLS));

        // when
        ModelResponse response = complete(model().build(), ask("Weather in Paris and Tokyo?"), listener, new Cancellation());

        // then
        assertThat(response.toolCalls()).containsExactly(
                new ToolCall("call_Paris1", "get_weather", "{\"city\": \"Paris\"}"),
                new ToolCall("call_Tokyo2", "get_weather", "{\"city\": \"Tokyo\"}"));
        assertThat(response.finishReason()).isEqualTo("tool_calls");
        assertThat(response.usage()).isEqualTo(Usage.reported(82, 46));
        assertThat(response.model()).isEqualTo("gpt-4o-mini-2024-07-18");
        assertThat(response.text()).isEmpty();
        assertThat(listener.tokens).isEmpty();
    }

    @Test
    void should_stream_openai_text_deltas_whose_concatenation_is_the_answer() throws Exception {
        // given
        server.then(FakeChatServer.events(Transcripts.OPENAI_TEXT));

        // when
        ModelResponse response = complete(model().build(), ask("Hello"), listener, new Cancellation());

        // then
        assertThat(listener.tokens).containsExactly("Hello", "! How can", " I help?");
        assertThat(response.text()).isEqualTo(listener.text()).isEqualTo("Hello! How can I help?");
        assertThat(response.finishReason()).isEqualTo("stop");
        assertThat(response.usage()).isEqualTo(Usage.reported(19, 10));
        JsonNode sent = new ObjectMapper().readTree(server.lastRequest().body());
        assertThat(sent.get("stream").asBoolean()).isTrue();
        assertThat(sent.at("/stream_options/include_usage").asBoolean()).isTrue();
        assertThat(server.lastRequest().header("Accept")).isEqualTo("text/event-stream");
    }

    @Test
    void should_send_ollama_reasoning_to_thinking_and_keep_it_out_of_the_answer() {
        // given
        server.then(FakeChatServer.events(Transcripts.OLLAMA_REASONING));

        // when
        ModelResponse response = complete(model().build(), ask("Hi"), listener, new Cancellation());

        // then
        assertThat(listener.thinking).containsExactly("The user", " greets me.");
        assertThat(response.text()).isEqualTo("Hi there!").isEqualTo(listener.text());
        assertThat(response.usage()).isEqualTo(Usage.reported(12, 40));
        assertThat(response.model()).isEqualTo("qwen3:8b");
    }

    @Test
    void should_take_whole_tool_calls_from_an_ollama_chunk() {
        // given
        server.then(FakeChatServer.events(Transcripts.OLLAMA_TOOL_CALLS));

        // when
        ModelResponse response = complete(model().build(), ask("Weather and time in Paris?"), listener, new Cancellation());

        // then
        assertThat(response.toolCalls()).containsExactly(
                new ToolCall("call_k3x9", "get_weather", "{\"city\":\"Paris\"}"),
                new ToolCall("call_p2m4", "get_time", "{\"zone\":\"Europe/Paris\"}"));
        assertThat(response.finishReason()).isEqualTo("tool_calls");
        assertThat(response.usage()).isNull();
    }

    @Test
    void should_send_vllm_reasoning_content_to_thinking() {
        // given
        server.then(FakeChatServer.events(Transcripts.VLLM_REASONING_CONTENT));

        // when
        ModelResponse response = complete(model().build(), ask("9.11 or 9.8?"), listener, new Cancellation());

        // then
        assertThat(listener.thoughts()).isEqualTo("Compare 9.11 and 9.8.");
        assertThat(response.text()).isEqualTo("9.8 is greater.");
        assertThat(response.usage()).isEqualTo(Usage.reported(18, 42));
    }

    @Test
    void should_emit_reasoning_once_when_a_delta_carries_two_aliases() {
        // given
        server.then(FakeChatServer.events(Transcripts.VLLM_BOTH_REASONING_ALIASES));

        // when
        ModelResponse response = complete(model().build(), ask("Go"), listener, new Cancellation());

        // then
        assertThat(listener.thinking).containsExactly("Think.");
        assertThat(response.text()).isEqualTo("Done.");
    }

    @Test
    void should_accept_thinking_as_a_reasoning_field() {
        // given
        server.then(FakeChatServer.events(List.of(
                "{\"choices\":[{\"index\":0,\"delta\":{\"thinking\":\"hmm\"},\"finish_reason\":null}]}",
                "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}",
                "[DONE]")));

        // when
        ModelResponse response = complete(model().build(), ask("Go"), listener, new Cancellation());

        // then
        assertThat(listener.thinking).containsExactly("hmm");
        assertThat(response.text()).isEqualTo("ok");
    }

    @Test
    void should_return_null_usage_and_omit_stream_options_for_a_server_without_usage() throws Exception {
        // given
        server.then(FakeChatServer.events(Transcripts.NO_USAGE));

        // when
        ModelResponse response = complete(model().includeUsage(false).build(), ask("Hi"), listener, new Cancellation());

        // then
        assertThat(response.text()).isEqualTo("Just text.");
        assertThat(response.usage()).isNull();
        JsonNode sent = new ObjectMapper().readTree(server.lastRequest().body());
        assertThat(sent.has("stream_options")).isFalse();
    }

    @Test
    void should_read_usage_from_the_finishing_chunk_as_llama_cpp_sends_it() {
        // given
        server.then(FakeChatServer.events(Transcripts.LLAMA_CPP));

        // when
        ModelResponse response = complete(model().build(), ask("test"), listener, new Cancellation());

        // then
        assertThat(listener.thinking).containsExactly("We");
        assertThat(response.text()).isEqualTo("Hello!");
        assertThat(response.usage()).isEqualTo(Usage.reported(1085, 247));
    }

    @Test
    void should_read_a_whole_completion_in_non_streaming_mode() throws Exception {
        // given
        server.then(FakeChatServer.json(200, Transcripts.NON_STREAMING_COMPLETION));

        // when
        ModelResponse response = complete(model().streaming(false).build(), ask("Weather in Boston?"), listener, new Cancellation());

        // then
        assertThat(listener.thinking).containsExactly("Need weather.");
        assertThat(listener.tokens).containsExactly("Checking.");
        assertThat(response.text()).isEqualTo("Checking.");
        assertThat(response.toolCalls()).containsExactly(
                new ToolCall("call_abc123", "get_current_weather", "{\n\"location\": \"Boston, MA\"\n}"));
        assertThat(response.usage()).isEqualTo(Usage.reported(82, 17));
        assertThat(response.finishReason()).isEqualTo("tool_calls");
        JsonNode sent = new ObjectMapper().readTree(server.lastRequest().body());
        assertThat(sent.get("stream").asBoolean()).isFalse();
        assertThat(sent.has("stream_options")).isFalse();
    }

    @Test
    void should_read_a_json_completion_when_the_server_ignores_stream_true() {
        // given
        server.then(FakeChatServer.json(200, Transcripts.NON_STREAMING_COMPLETION));

        // when
        ModelResponse response = complete(model().build(), ask("Weather in Boston?"), listener, new Cancellation());

        // then
        assertThat(response.text()).isEqualTo("Checking.");
        assertThat(response.toolCalls()).hasSize(1);
    }

    @Test
    void should_accept_a_stream_that_ends_after_its_finish_reason_without_done() {
        // given
        server.then(FakeChatServer.events(List.of(Transcripts.textDelta("All"), Transcripts.finish("stop"))));

        // when
        ModelResponse response = complete(model().build(), ask("Hi"), listener, new Cancellation());

        // then
        assertThat(response.text()).isEqualTo("All");
        assertThat(response.finishReason()).isEqualTo("stop");
    }

    @Test
    void should_skip_comments_and_read_crlf_framed_events() {
        // given
        server.then(FakeChatServer.sse(
                ": keep-alive\r\n\r\n",
                "data: " + Transcripts.textDelta("one") + "\r\n\r\n",
                "event: message\r\ndata: " + Transcripts.textDelta(" two") + "\r\n\r\n",
                "data: " + Transcripts.finish("stop") + "\r\n\r\ndata: [DONE]\r\n\r\n"));

        // when
        ModelResponse response = complete(model().build(), ask("Count"), listener, new Cancellation());

        // then
        assertThat(response.text()).isEqualTo("one two");
    }
}
