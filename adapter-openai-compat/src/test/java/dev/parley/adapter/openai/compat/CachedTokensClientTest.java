package dev.parley.adapter.openai.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import com.openai.models.responses.ResponseUsage;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.Usage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The facade's usage objects carry the cached input tokens as OpenAI's SDKs read them. */
class CachedTokensClientTest extends CompatClientTest {
    private static final Usage CACHED = Usage.reported(1_200, 30).withCachedInputTokens(1_024);



    @Test
    void should_show_cached_tokens_in_a_responses_usage_created_streamed_and_retrieved() {
        // given
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.reply("Once.").withUsage(CACHED)).enqueue(Script.reply("Twice.").withUsage(CACHED)));
        ResponseCreateParams ask = ResponseCreateParams.builder().model(CompatServer.AGENT).input("Again?").build();
        // when
        Response created = alice().responses().create(ask);
        List<ResponseStreamEvent> events;
        try (StreamResponse<ResponseStreamEvent> stream = alice().responses().createStreaming(ask)) {
            events = stream.stream().toList();
        }
        Response streamed = events.get(events.size() - 1).asCompleted().response();
        Response retrieved = alice().responses().retrieve(created.id());
        // then
        for (Response response : List.of(created, streamed, retrieved)) {
            ResponseUsage usage = response.usage().orElseThrow();
            assertThat(usage.inputTokensDetails().cachedTokens()).isEqualTo(1_024);
            assertThat(usage.inputTokens()).isEqualTo(1_200);
        }
    }

    @Test
    void should_show_cached_tokens_in_a_chat_completions_usage_whole_and_streamed() {
        // given
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.reply("Once.").withUsage(CACHED)).enqueue(Script.tokens("Tw", "ice.").withUsage(CACHED)));
        ChatCompletionCreateParams.Builder ask = ChatCompletionCreateParams.builder().model(CompatServer.AGENT).addUserMessage("Again?");
        // when
        ChatCompletion completion = alice().chat().completions().create(ask.build());
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = alice().chat().completions().createStreaming(ask
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            chunks = stream.stream().toList();
        }
        // then
        for (CompletionUsage usage : List.of(completion.usage().orElseThrow(), chunks.get(chunks.size() - 1).usage().orElseThrow())) {
            assertThat(usage.promptTokensDetails().orElseThrow().cachedTokens()).contains(1_024L);
            assertThat(usage.promptTokens()).isEqualTo(1_200);
        }
    }
}
