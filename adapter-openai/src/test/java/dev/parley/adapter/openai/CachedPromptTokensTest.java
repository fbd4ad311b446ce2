package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ChatModel;
import static dev.parley.adapter.openai.Conversations.ask;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The prompt tokens a server says it read from its prompt cache become the usage's cached input tokens. */
class CachedPromptTokensTest {

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
    void should_read_cached_prompt_tokens_from_the_usage_chunk_of_a_stream() {
        // given
        server.then(FakeChatServer.events(Transcripts.OPENAI_CACHED_PROMPT));
        // when
        ModelResponse response = complete(model().build(), ask("Again?"), listener, new Cancellation());
        // then
        assertThat(response.usage()).isEqualTo(new Usage(2006, 1920, 300, false));
    }

    @Test
    void should_read_cached_prompt_tokens_from_a_whole_completion() {
        // given
        server.then(FakeChatServer.json(200, Transcripts.NON_STREAMING_CACHED_PROMPT));
        // when
        ModelResponse response = complete(model().streaming(false).build(), ask("Again?"), listener, new Cancellation());
        // then
        assertThat(response.usage()).isEqualTo(new Usage(1500, 1280, 3, false));
    }

    @Test
    void should_read_deepseeks_cache_hits_as_cached_prompt_tokens() {
        // given
        server.then(FakeChatServer.events(Transcripts.DEEPSEEK_CACHE_HIT));
        // when
        ModelResponse response = complete(model().build(), ask("Still?"), listener, new Cancellation());
        // then
        assertThat(response.usage()).isEqualTo(new Usage(140, 128, 2, false));
    }

    @Test
    void should_report_no_cached_tokens_when_the_server_reports_none() {
        // given: OpenAI's usage chunk with cached_tokens 0, and servers that send no details at all
        server.then(FakeChatServer.events(Transcripts.OPENAI_PARALLEL_TOOL_CALLS));
        server.then(FakeChatServer.events(Transcripts.LLAMA_CPP));
        // when
        ModelResponse openai = complete(model().build(), ask("Weather?"), listener, new Cancellation());
        ModelResponse llama = complete(model().build(), ask("Hi"), listener, new Cancellation());
        // then
        assertThat(List.of(openai.usage().cachedInputTokens(), llama.usage().cachedInputTokens())).containsOnly(0L);
    }

    @Test
    void should_count_no_more_cached_tokens_than_prompt_tokens() {
        // given: a server that claims more cached tokens than the prompt had
        server.then(FakeChatServer.events(List.of(
                Transcripts.textDelta("x"),
                Transcripts.finish("stop"),
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],"
                        + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"prompt_tokens_details\":{\"cached_tokens\":99}}}",
                "[DONE]")));
        // when
        ModelResponse response = complete(model().build(), ask("x"), listener, new Cancellation());
        // then
        assertThat(response.usage()).isEqualTo(new Usage(10, 10, 1, false));
    }
}
