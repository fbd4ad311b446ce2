package dev.parley.adapter.openai.compat;

import static dev.parley.adapter.openai.compat.OpenAiJavaClientTest.assertParam;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.Reasoning;
import com.openai.models.ReasoningEffort;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.conversations.Conversation;
import com.openai.models.conversations.ConversationCreateParams;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStreamEvent;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.out.ModelRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A request's model settings ({@code temperature}, {@code max_output_tokens} / {@code max_tokens} /
 * {@code max_completion_tokens}, {@code reasoning.effort} / {@code reasoning_effort}) reach the model,
 * driven by the official Java SDK; response objects echo them and the response they continued.
 */
class ModelSettingsClientTest extends CompatClientTest {
    private static final ModelSettings ASKED = new ModelSettings(0.3, 50, dev.parley.chat.model.ReasoningEffort.HIGH);



    private static ResponseCreateParams.Builder ask(String text) {
        return ResponseCreateParams.builder().model(CompatServer.AGENT).input(text);
    }

    private static ResponseCreateParams.Builder withSettings(ResponseCreateParams.Builder params) {
        return params.temperature(0.3).maxOutputTokens(50L).reasoning(Reasoning.builder().effort(ReasoningEffort.HIGH).build());
    }

    private static void assertEchoes(Response response) {
        assertThat(response.temperature()).contains(0.3);
        assertThat(response.maxOutputTokens()).contains(50L);
        assertThat(response.reasoning().flatMap(Reasoning::effort)).contains(ReasoningEffort.HIGH);
    }

    @Test
    void should_send_a_responses_settings_to_the_model_and_echo_them_created_streamed_and_retrieved() {
        // given
        server = CompatServer.start(ScriptedChatModel.replying("one", "two"));
        // when
        Response created = alice().responses().create(withSettings(ask("first")).build());
        ModelRequest first = server.model.lastRequest();
        List<ResponseStreamEvent> events;
        try (StreamResponse<ResponseStreamEvent> stream = alice().responses().createStreaming(withSettings(ask("second")).build())) {
            events = stream.stream().toList();
        }
        // then
        assertThat(first.settings()).isEqualTo(ASKED);
        assertThat(server.model.lastRequest().settings()).isEqualTo(ASKED);
        assertEchoes(created);
        assertEchoes(events.get(0).asCreated().response());
        assertEchoes(events.get(events.size() - 1).asCompleted().response());
        assertEchoes(alice().responses().retrieve(created.id()));
    }

    @Test
    void should_leave_the_settings_to_the_agent_when_a_response_gives_none() {
        server = CompatServer.start(ScriptedChatModel.echo());

        Response response = alice().responses().create(ask("plain").build());

        assertThat(server.model.lastRequest().settings()).isEqualTo(ModelSettings.DEFAULT);
        assertThat(response.temperature()).isEmpty();
        assertThat(response.maxOutputTokens()).isEmpty();
        assertThat(response.reasoning()).isEmpty();
    }

    @Test
    void should_name_the_response_a_response_continued_created_and_retrieved() {
        // given
        server = CompatServer.start(ScriptedChatModel.replying("one", "two", "three", "four"));
        Conversation conversation = alice().conversations().create(ConversationCreateParams.builder().build());
        Response first = alice().responses().create(ask("first").build());
        // when
        Response next = alice().responses().create(ask("second").previousResponseId(first.id()).temperature(1.2).build());
        Response branch = alice().responses().create(ask("instead").previousResponseId(first.id()).build());
        Response inConversation = alice().responses().create(ask("elsewhere").conversation(conversation.id()).build());
        // then
        assertThat(first.previousResponseId()).isEmpty();
        assertThat(next.previousResponseId()).contains(first.id());
        assertThat(alice().responses().retrieve(next.id()).previousResponseId()).contains(first.id());
        assertThat(alice().responses().retrieve(next.id()).temperature()).contains(1.2);
        assertThat(branch.previousResponseId()).contains(first.id());
        assertThat(inConversation.previousResponseId()).isEmpty();
    }

    @Test
    void should_continue_a_run_after_approval_with_its_settings_and_name_the_response_that_asked() {
        // given a response that asks for approval, created with settings
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.toolCalls(new ToolCall("call_9", "refund", "{\"order\":\"A1\"}")))
                .enqueue(Script.reply("Refunded.")));
        Response asking = alice().responses().create(withSettings(ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .input("Refund order A1")).build());
        ResponseOutputItem.McpApprovalRequest request = asking.output().get(asking.output().size() - 1).mcpApprovalRequest().orElseThrow();
        ResponseCreateParams.Builder approve = ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .previousResponseId(asking.id())
                .inputOfResponse(List.of(ResponseInputItem.ofMcpApprovalResponse(ResponseInputItem.McpApprovalResponse.builder()
                        .approvalRequestId(request.id()).approve(true).build())));
        // when: an answer may not change the settings; without them it continues the run
        assertParam(() -> alice().responses().create(approve.temperature(1.9).build()), "temperature");
        Response answered = alice().responses().create(approve.temperature((Double) null).build());
        // then
        assertThat(server.model.requests()).extracting(ModelRequest::settings).containsExactly(ASKED, ASKED);
        assertThat(answered.previousResponseId()).contains(asking.id());
        assertEchoes(answered);
        assertThat(alice().responses().retrieve(answered.id()).previousResponseId()).contains(asking.id());
    }

    @Test
    void should_send_a_chat_completions_settings_to_the_model() {
        // given
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.reply("a")).enqueue(Script.reply("b")).enqueue(Script.reply("c")));
        ChatCompletionCreateParams.Builder ask = ChatCompletionCreateParams.builder().model(CompatServer.AGENT).addUserMessage("hi");
        // when
        alice().chat().completions().create(ask.temperature(0.3).maxCompletionTokens(50L).reasoningEffort(ReasoningEffort.HIGH).build());
        alice().chat().completions().create(ChatCompletionCreateParams.builder().model(CompatServer.AGENT).addUserMessage("hi")
                .maxTokens(7L).build());
        alice().chat().completions().create(ChatCompletionCreateParams.builder().model(CompatServer.AGENT).addUserMessage("hi")
                .maxTokens(9L).maxCompletionTokens(9L).build());
        // then
        assertThat(server.model.requests()).extracting(ModelRequest::settings)
                .containsExactly(ASKED, new ModelSettings(null, 7, null), new ModelSettings(null, 9, null));
    }

    @Test
    void should_refuse_a_setting_out_of_range_or_unknown_naming_it() {
        server = CompatServer.start(ScriptedChatModel.echo());
        ChatCompletionCreateParams.Builder chat = ChatCompletionCreateParams.builder().model(CompatServer.AGENT).addUserMessage("x");

        assertParam(() -> alice().responses().create(ask("x").temperature(2.5).build()), "temperature");
        assertParam(() -> alice().responses().create(ask("x").maxOutputTokens(0L).build()), "max_output_tokens");
        assertParam(() -> alice().responses().create(ask("x").reasoning(Reasoning.builder().effort(ReasoningEffort.MINIMAL).build())
                .build()), "reasoning.effort");
        assertParam(() -> alice().responses().create(ask("x").putAdditionalBodyProperty("reasoning",
                JsonValue.from(Map.of("effort", "low", "summary", "detailed"))).build()), "reasoning.summary");
        assertParam(() -> alice().chat().completions().create(chat.temperature(-0.1).build()), "temperature");
        assertParam(() -> alice().chat().completions().create(chat.temperature((Double) null).maxTokens(5L).maxCompletionTokens(6L)
                .build()), "max_tokens");
        assertParam(() -> alice().chat().completions().create(chat.maxTokens((Long) null).maxCompletionTokens((Long) null)
                .reasoningEffort(ReasoningEffort.XHIGH).build()), "reasoning_effort");
        assertThat(server.model.callCount()).isZero();
    }
}
