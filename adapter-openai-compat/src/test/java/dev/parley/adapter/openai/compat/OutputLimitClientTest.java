package dev.parley.adapter.openai.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An answer the model stopped at the output token limit, driven by the official Java SDK: the response
 * is {@code incomplete} with reason {@code max_output_tokens} (created, streamed and retrieved), and a
 * chat completion's finish reason is {@code length}.
 */
class OutputLimitClientTest extends CompatClientTest {
    private static Script cut() {
        return Script.tokens("1 ", "2 ", "3").withFinishReason("length");
    }

    private static ResponseCreateParams ask() {
        return ResponseCreateParams.builder().model(CompatServer.AGENT).input("count to 10").maxOutputTokens(3L).build();
    }

    private static void assertCut(Response response) {
        assertThat(response.status()).contains(ResponseStatus.INCOMPLETE);
        assertThat(response.incompleteDetails()).hasValueSatisfying(d -> assertThat(d.reason())
                .contains(Response.IncompleteDetails.Reason.MAX_OUTPUT_TOKENS));
        assertThat(OpenAiJavaClientTest.text(response)).isEqualTo("1 2 3");
    }

    @Test
    void should_answer_a_response_cut_at_the_limit_as_incomplete_created_and_retrieved() {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(cut()));

        Response created = alice().responses().create(ask());

        assertCut(created);
        assertThat(created.output().get(created.output().size() - 1).asMessage().status())
                .isEqualTo(com.openai.models.responses.ResponseOutputMessage.Status.INCOMPLETE);
        assertCut(alice().responses().retrieve(created.id()));
    }

    @Test
    void should_end_a_streamed_response_cut_at_the_limit_with_response_incomplete() {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(cut()));

        List<ResponseStreamEvent> events;
        try (StreamResponse<ResponseStreamEvent> stream = alice().responses().createStreaming(ask())) {
            events = stream.stream().toList();
        }

        ResponseStreamEvent last = events.get(events.size() - 1);
        assertThat(last.isIncomplete()).as("last event %s", last).isTrue();
        assertCut(last.asIncomplete().response());
        assertThat(events).noneMatch(ResponseStreamEvent::isCompleted);
    }

    @Test
    void should_give_a_chat_completion_cut_at_the_limit_the_finish_reason_length_streamed_and_not() {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(cut()).enqueue(cut()));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(CompatServer.AGENT)
                .addUserMessage("count to 10").maxCompletionTokens(3L).build();

        ChatCompletion completion = alice().chat().completions().create(params);
        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = alice().chat().completions().createStreaming(params)) {
            chunks = stream.stream().toList();
        }

        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        assertThat(completion.choices().get(0).message().content()).contains("1 2 3");
        assertThat(chunks.stream().flatMap(c -> c.choices().stream()).flatMap(c -> c.finishReason().stream()))
                .containsExactly(ChatCompletionChunk.Choice.FinishReason.LENGTH);
    }
}
