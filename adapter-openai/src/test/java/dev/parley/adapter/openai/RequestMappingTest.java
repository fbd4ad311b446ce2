package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ChatModel;
import static dev.parley.adapter.openai.Conversations.assistant;
import static dev.parley.adapter.openai.Conversations.ask;
import static dev.parley.adapter.openai.Conversations.request;
import static dev.parley.adapter.openai.Conversations.system;
import static dev.parley.adapter.openai.Conversations.toolResult;
import static dev.parley.adapter.openai.Conversations.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What the model sends: the request JSON and headers as the fake server received them. */
class RequestMappingTest {

    /** One call of {@code model}: here {@link ChatModel#complete}; the asynchronous twin of this test makes it with {@code completeAsync}. */
    ModelResponse complete(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return model.complete(request, listener, cancellation);
    }
    private final FakeChatServer server = new FakeChatServer();
    private final ObjectMapper json = new ObjectMapper();

    @AfterEach
    void stop() {
        server.close();
    }

    private OpenAiChatModel.Builder model() {
        return OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey("test-key").model("gpt-4o-mini");
    }

    private JsonNode send(OpenAiChatModel model, ModelRequest request) throws Exception {
        server.then(FakeChatServer.events(Transcripts.NO_USAGE));
        complete(model, request, new RecordingListener(), new Cancellation());
        return json.readTree(server.lastRequest().body());
    }

    @Test
    void should_serialize_images_tool_calls_and_tool_results_as_the_reference_describes() throws Exception {
        // given
        ToolSpec weather = new ToolSpec("get_weather", "Current weather for a city",
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}");
        ModelRequest request = request(List.of(
                system("You are helpful."),
                user(ContentPart.text("What is in this image?"), ContentPart.imageUrl("https://example.com/boardwalk.jpg")),
                assistant("", new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}")),
                toolResult("call_1", "{\"temp_c\":21}"),
                assistant("It is 21 °C."),
                user("Thanks")), weather);

        // when
        JsonNode sent = send(model().build(), request);

        // then
        assertThat(sent.get("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(sent.get("messages")).isEqualTo(json.readTree("""
                [
                  {"role": "system", "content": "You are helpful."},
                  {"role": "user", "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/boardwalk.jpg"}}
                  ]},
                  {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\":\\"Paris\\"}"}}
                  ]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "{\\"temp_c\\":21}"},
                  {"role": "assistant", "content": "It is 21 °C."},
                  {"role": "user", "content": "Thanks"}
                ]"""));
        assertThat(sent.get("tools")).isEqualTo(json.readTree("""
                [{"type": "function", "function": {
                   "name": "get_weather",
                   "description": "Current weather for a city",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
                }}]"""));
    }

    @Test
    void should_send_headers_options_and_query_parameters() throws Exception {
        // given
        OpenAiChatModel model = model()
                .organization("org-123").project("proj_456")
                .header("api-key", "azure-secret")
                .queryParameter("api-version", "2024-10-21")
                .temperature(0.2)
                .option("max_completion_tokens", 256)
                .option("stop", List.of("END"))
                .optionJson("response_format", "{\"type\":\"json_object\"}")
                .build();

        // when
        JsonNode sent = send(model, ask("Hi"));

        // then
        FakeChatServer.Received received = server.lastRequest();
        assertThat(received.method()).isEqualTo("POST");
        assertThat(received.path()).isEqualTo("/v1/chat/completions");
        assertThat(received.query()).isEqualTo("api-version=2024-10-21");
        assertThat(received.header("Authorization")).isEqualTo("Bearer test-key");
        assertThat(received.header("OpenAI-Organization")).isEqualTo("org-123");
        assertThat(received.header("OpenAI-Project")).isEqualTo("proj_456");
        assertThat(received.header("api-key")).isEqualTo("azure-secret");
        assertThat(received.header("Content-Type")).isEqualTo("application/json");
        assertThat(sent.get("temperature").asDouble()).isEqualTo(0.2);
        assertThat(sent.get("max_completion_tokens").asInt()).isEqualTo(256);
        assertThat(sent.get("stop")).isEqualTo(json.readTree("[\"END\"]"));
        assertThat(sent.get("response_format")).isEqualTo(json.readTree("{\"type\":\"json_object\"}"));
    }

    @Test
    void should_send_no_authorization_without_an_api_key() throws Exception {
        // given
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(server.baseUrl() + "/").model("llama3.2").build();

        // when
        send(model, ask("Hi"));

        // then
        assertThat(server.lastRequest().header("Authorization")).isNull();
        assertThat(server.lastRequest().path()).isEqualTo("/v1/chat/completions");
    }

    @Test
    void should_ask_the_request_model_over_the_default() throws Exception {
        // given
        ModelRequest request = new ModelRequest("gpt-4.1", ask("Hi").messages(), List.of());

        // when
        JsonNode sent = send(model().build(), request);

        // then
        assertThat(sent.get("model").asText()).isEqualTo("gpt-4.1");
    }

    @Test
    void should_send_the_runs_model_settings_over_the_clients_defaults() throws Exception {
        // given
        ModelRequest request = new ModelRequest(null, ask("Hi").messages(), List.of(),
                new ModelSettings(0.2, 300, ReasoningEffort.HIGH));

        // when
        JsonNode sent = send(model().temperature(1.5).build(), request);

        // then
        assertThat(sent.get("temperature").asDouble()).isEqualTo(0.2);
        assertThat(sent.get("max_completion_tokens").asInt()).isEqualTo(300);
        assertThat(sent.get("reasoning_effort").asText()).isEqualTo("high");
    }

    @Test
    void should_send_the_token_limit_under_the_name_the_server_reads_in_place_of_a_configured_one() throws Exception {
        // given: Ollama's OpenAI endpoint reads max_tokens only
        ModelRequest request = new ModelRequest(null, ask("Hi").messages(), List.of(), new ModelSettings(null, 40, null));

        // when
        JsonNode ollama = send(model().maxTokensParameter("max_tokens").option("max_tokens", 999).build(), request);
        JsonNode openai = send(model().option("max_tokens", 999).build(), request);

        // then
        assertThat(ollama.get("max_tokens").asInt()).isEqualTo(40);
        assertThat(ollama.has("max_completion_tokens")).isFalse();
        assertThat(openai.get("max_completion_tokens").asInt()).isEqualTo(40);
        assertThat(openai.has("max_tokens")).isFalse();
        assertThatThrownBy(() -> model().maxTokensParameter("max_output_tokens").build()).isInstanceOf(IllegalArgumentException.class);
        assertThat(OpenAiChatModel.builder().environment(java.util.Map.of("PARLEY_MODEL", "m", "OPENAI_MAX_TOKENS_PARAMETER", "max_tokens"))
                .build().toString()).contains("maxTokensParameter=max_tokens");
    }

    @Test
    void should_send_no_settings_when_the_agent_has_none() throws Exception {
        JsonNode sent = send(model().build(), ask("Hi"));

        assertThat(sent.has("temperature")).isFalse();
        assertThat(sent.has("max_completion_tokens")).isFalse();
        assertThat(sent.has("reasoning_effort")).isFalse();
    }

    @Test
    void should_refuse_a_tool_whose_schema_is_not_a_json_object() {
        // given
        ModelRequest request = request(List.of(user("Hi")), new ToolSpec("broken", "", "[1,2"));

        // when / then
        assertThatThrownBy(() -> complete(model().build(), request, new RecordingListener(), new Cancellation()))
                .isInstanceOf(ModelException.class)
                .hasFieldOrPropertyWithValue("code", "model_error");
        assertThat(server.received()).isEmpty();
    }

    @Test
    void should_configure_from_the_environment_variables_of_the_demo_server() {
        // when
        var configured = OpenAiChatModel.fromEnvironment(Map.of(
                "OPENAI_BASE_URL", server.baseUrl(), "OPENAI_API_KEY", "env-key", "PARLEY_MODEL", "qwen3:8b"));
        var unconfigured = OpenAiChatModel.fromEnvironment(Map.of("PARLEY_MODEL", "qwen3:8b"));

        // then
        assertThat(unconfigured).isEmpty();
        assertThat(configured).isPresent();
        server.then(FakeChatServer.events(Transcripts.NO_USAGE));
        complete(configured.get(), ask("Hi"), new RecordingListener(), new Cancellation());
        assertThat(configured.get().defaultModel()).isEqualTo("qwen3:8b");
        assertThat(server.lastRequest().header("Authorization")).isEqualTo("Bearer env-key");
    }
}
