package dev.parley.adapter.openai.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ToolCall;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code /v1/chat/completions} driven by the official Java SDK. */
class ChatCompletionsClientTest extends CompatClientTest {
    private static ChatCompletionCreateParams.Builder ask(String text) {
        return ChatCompletionCreateParams.builder().model(CompatServer.AGENT).addUserMessage(text);
    }

    @Test
    void should_answer_a_completion_and_record_its_run() {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(Script.reply("Hi there.").withUsage(5, 2)));

        ChatCompletion completion = alice().chat().completions().create(ask("Hello").build());

        assertThat(completion.choices()).hasSize(1);
        assertThat(completion.choices().get(0).message().content()).contains("Hi there.");
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(completion.usage()).hasValueSatisfying(u -> assertThat(u.totalTokens()).isEqualTo(7));
        assertThat(server.service.listThreads("alice", null, PageRequest.firstPage()).items()).hasSize(1);
    }

    @Test
    void should_run_a_sync_completion_and_a_sync_response_on_the_request_thread() {
        // given a model that notes the thread of each call
        List<String> callers = new java.util.concurrent.CopyOnWriteArrayList<>();
        ScriptedChatModel model = ScriptedChatModel.builder().build();
        for (int i = 0; i < 2; i++) {
            model.enqueue(request -> {
                callers.add(Thread.currentThread().getName());
                return Script.reply("Hi there.");
            });
        }
        server = CompatServer.start(model);

        // when
        ChatCompletion completion = alice().chat().completions().create(ask("Hello").build());
        var response = alice().responses().create(com.openai.models.responses.ResponseCreateParams.builder()
                .model(CompatServer.AGENT).input("Hello").build());

        // then both model calls ran on the request's own thread, not handed to a run thread
        assertThat(completion.choices().get(0).message().content()).contains("Hi there.");
        assertThat(response.status()).contains(com.openai.models.responses.ResponseStatus.COMPLETED);
        assertThat(callers).hasSize(2).noneMatch(name -> name.startsWith("parley-run-"));
    }

    @Test
    void should_stream_a_completion_as_chunks_with_the_usage_last() {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(Script.tokens("Hel", "lo").withUsage(5, 2)));

        List<ChatCompletionChunk> chunks;
        try (StreamResponse<ChatCompletionChunk> stream = alice().chat().completions().createStreaming(ask("Hi")
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            chunks = stream.stream().toList();
        }

        String text = chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
                .reduce("", String::concat);
        assertThat(text).isEqualTo("Hello");
        assertThat(chunks.get(0).choices().get(0).delta().role()).isPresent();
        assertThat(chunks.stream().flatMap(c -> c.choices().stream()).filter(c -> c.finishReason().isPresent())).hasSize(1);
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage()).hasValueSatisfying(u -> assertThat(u.completionTokens()).isEqualTo(2));
    }

    @Test
    void should_start_the_completions_thread_with_the_earlier_turns_the_client_sent() {
        server = CompatServer.start(ScriptedChatModel.echo());

        alice().chat().completions().create(ChatCompletionCreateParams.builder().model(CompatServer.AGENT)
                .addUserMessage("My name is Alice.").addAssistantMessage("Hello Alice.").addUserMessage("What is my name?").build());

        // the model sees each earlier turn as a message of its own, as the thread stores them
        List<Message> seen = server.model.lastRequest().messages().stream().filter(m -> m.role() != Role.SYSTEM).toList();
        assertThat(seen).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.USER);
        assertThat(seen).extracting(Message::text).containsExactly("My name is Alice.", "Hello Alice.", "What is my name?");
        ChatThread thread = server.service.listThreads("alice", null, PageRequest.firstPage()).items().get(0);
        assertThat(thread.title()).isEqualTo("My name is Alice.");
        assertThat(server.service.listMessages("alice", thread.id(), PageRequest.firstPage(), SortOrder.ASC).items()).hasSize(4);
    }

    @Test
    void should_name_a_bad_earlier_message_by_its_index_in_the_request() {
        server = CompatServer.start(ScriptedChatModel.echo());

        OpenAiJavaClientTest.assertParam(() -> alice().chat().completions().create(ChatCompletionCreateParams.builder()
                .model(CompatServer.AGENT).addSystemMessage("Be brief.").addUserMessage("fine").addAssistantMessage("a\u0000b")
                .addUserMessage("next").build()), "messages[2].content");
        assertThat(server.service.listThreads("alice", null, PageRequest.firstPage()).items()).isEmpty();
    }

    @Test
    void should_append_the_clients_system_message_to_the_agents_instructions() {
        server = CompatServer.start(ScriptedChatModel.echo());

        alice().chat().completions().create(ChatCompletionCreateParams.builder().model(CompatServer.AGENT)
                .addSystemMessage("Answer in French.").addUserMessage("Hello").build());

        var messages = server.model.lastRequest().messages();
        assertThat(messages.get(0).text()).isEqualTo("You are helpful.\n\nAnswer in French.");
        assertThat(messages.get(messages.size() - 1).text()).isEqualTo("Hello");
    }

    @Test
    void should_refuse_more_than_one_choice_and_client_side_tools_naming_the_parameter() {
        server = CompatServer.start(ScriptedChatModel.echo());

        OpenAiJavaClientTest.assertParam(() -> alice().chat().completions().create(ask("x").n(2).build()), "n");
        OpenAiJavaClientTest.assertParam(() -> alice().chat().completions().create(ask("x").topP(0.5).build()), "top_p");
        OpenAiJavaClientTest.assertParam(() -> alice().chat().completions().create(ChatCompletionCreateParams.builder()
                .model(CompatServer.AGENT).addAssistantMessage("only me").build()), "messages[0].role");
        assertThatThrownBy(() -> alice().chat().completions().create(ask("x").model("nope").build()))
                .isInstanceOf(BadRequestException.class);
    }

    @Test
    void should_not_offer_the_model_the_tools_that_require_approval() {
        server = CompatServer.start(ScriptedChatModel.echo());

        ChatCompletion completion = alice().chat().completions().create(ChatCompletionCreateParams.builder()
                .model(CompatServer.APPROVING_AGENT).addUserMessage("refund order 7").build());

        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(server.model.lastRequest().tools()).isEmpty();
    }

    @Test
    void should_stream_to_the_end_without_running_an_approval_tool_the_model_calls_anyway() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.toolCalls(new ToolCall("call_1", "refund", "{}")))
                .enqueue(Script.reply("I cannot refund from here.")));

        String text;
        try (StreamResponse<ChatCompletionChunk> stream = alice().chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model(CompatServer.APPROVING_AGENT).addUserMessage("refund").build())) {
            text = stream.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
                    .reduce("", String::concat);
        }

        assertThat(text).isEqualTo("I cannot refund from here.");
        assertThat(server.model.lastRequest().messages()).anySatisfy(m -> assertThat(m.text()).contains("tool_not_found"));
    }
}
