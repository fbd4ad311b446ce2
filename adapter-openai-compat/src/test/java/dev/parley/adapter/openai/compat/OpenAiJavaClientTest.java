package dev.parley.adapter.openai.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.ObjectMappers;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.errors.UnexpectedStatusCodeException;
import com.openai.models.conversations.Conversation;
import com.openai.models.conversations.ConversationCreateParams;
import com.openai.models.conversations.items.ConversationItem;
import com.openai.models.conversations.items.ItemListParams;
import com.openai.models.models.Model;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseReasoningSummaryTextDeltaEvent;
import com.openai.models.responses.ResponseRetrieveParams;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.ToolCall;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Responses, Conversations and Models routes driven by the official Java SDK. */
class OpenAiJavaClientTest extends CompatClientTest {
    private static ResponseCreateParams.Builder ask(String text) {
        return ResponseCreateParams.builder().model(CompatServer.AGENT).input(text);
    }

    /** The text of a response's message items. */
    static String text(Response response) {
        StringBuilder text = new StringBuilder();
        for (ResponseOutputItem item : response.output()) {
            item.message().ifPresent(m -> m.content().forEach(c -> c.outputText().ifPresent(t -> text.append(t.text()))));
        }
        return text.toString();
    }

    /** An SDK event as the JSON it came as. */
    static JsonNode json(ResponseStreamEvent event) {
        return ObjectMappers.jsonMapper().valueToTree(event);
    }

    static String withoutCompletedAt(JsonNode event) {
        JsonNode copy = event.deepCopy();
        if (copy.has("response")) {
            ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get("response")).remove("completed_at");
        }
        return copy.toString();
    }

    static List<ResponseStreamEvent> drain(StreamResponse<ResponseStreamEvent> stream) {
        try (stream) {
            return stream.stream().toList();
        }
    }

    @Test
    void should_list_the_agents_as_models() {
        server = CompatServer.start(ScriptedChatModel.echo());

        List<Model> models = alice().models().list().data();

        assertThat(models).extracting(Model::id).contains(CompatServer.AGENT, CompatServer.APPROVING_AGENT);
        assertThat(alice().models().retrieve(CompatServer.AGENT).ownedBy()).isEqualTo("parley");
        assertThatThrownBy(() -> alice().models().retrieve("no-such-agent")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_answer_a_response_and_continue_it_in_its_conversation() {
        server = CompatServer.start(ScriptedChatModel.replying("Hello Alice.", "You said your name."));
        Conversation conversation = alice().conversations().create(ConversationCreateParams.builder().build());

        Response first = alice().responses().create(ask("My name is Alice.").conversation(conversation.id()).build());
        Response second = alice().responses().create(ask("What did I say?").conversation(conversation.id()).build());

        assertThat(first.status()).contains(ResponseStatus.COMPLETED);
        assertThat(text(first)).isEqualTo("Hello Alice.");
        assertThat(text(second)).isEqualTo("You said your name.");
        assertThat(second.conversation()).hasValueSatisfying(c -> assertThat(c.id()).isEqualTo(conversation.id()));
        assertThat(second.usage()).hasValueSatisfying(u -> assertThat(u.totalTokens()).isEqualTo(u.inputTokens() + u.outputTokens()));
        List<ConversationItem> items = alice().conversations().items()
                .list(ItemListParams.builder().conversationId(conversation.id()).order(ItemListParams.Order.ASC).build()).data();
        assertThat(items).hasSize(4);
        assertThat(items.get(0).message().orElseThrow().role().toString()).isEqualTo("user");
        assertThat(items.get(3).message().orElseThrow().role().toString()).isEqualTo("assistant");
        // the model saw the earlier turn: the conversation is the thread
        assertThat(server.model.lastRequest().messages()).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void should_stream_a_response_with_the_sdk_typed_events() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.tokens("Hel", "lo", " \"there\"\n\u00e9\ud83d\ude00").withUsage(7, 3)));

        List<ResponseStreamEvent> events = drain(alice().responses().createStreaming(ask("Hi").build()));

        List<String> types = events.stream().map(e -> json(e).get("type").asText()).toList();
        assertThat(types).startsWith("response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added", "response.output_text.delta");
        assertThat(types).endsWith("response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.completed");
        assertThat(events.stream().filter(ResponseStreamEvent::isOutputTextDelta).map(e -> e.outputTextDelta().get().delta()))
                .containsExactly("Hel", "lo", " \"there\"\n\u00e9\ud83d\ude00");
        List<Long> numbers = events.stream().map(e -> json(e).get("sequence_number").asLong()).toList();
        assertThat(numbers).isEqualTo(java.util.stream.LongStream.range(0, events.size()).boxed().toList());
        Response completed = events.get(events.size() - 1).completed().orElseThrow().response();
        assertThat(text(completed)).isEqualTo("Hello \"there\"\n\u00e9\ud83d\ude00");
        assertThat(completed.usage().orElseThrow().outputTokens()).isEqualTo(3);
        // the stored response is the streamed one
        assertThat(ObjectMappers.jsonMapper().valueToTree(alice().responses().retrieve(completed.id())).get("output"))
                .isEqualTo(ObjectMappers.jsonMapper().valueToTree(completed).get("output"));
    }

    @Test
    void should_stream_a_models_thinking_as_a_reasoning_item_before_its_answer() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.thinking("Count \"one\", then \u00e9 two").thenTokens("1", " 2")));

        List<ResponseStreamEvent> events = drain(alice().responses().createStreaming(ask("Count").build()));

        List<ResponseReasoningSummaryTextDeltaEvent> thoughts = events.stream()
                .flatMap(e -> e.reasoningSummaryTextDelta().stream()).toList();
        assertThat(thoughts).isNotEmpty().allSatisfy(d -> {
            assertThat(d.outputIndex()).isZero();
            assertThat(d.summaryIndex()).isZero();
            assertThat(d.itemId()).startsWith("rs_");
        });
        assertThat(thoughts.stream().map(ResponseReasoningSummaryTextDeltaEvent::delta).collect(java.util.stream.Collectors.joining()))
                .isEqualTo("Count \"one\", then \u00e9 two");
        assertThat(events.stream().flatMap(e -> e.outputTextDelta().stream()).map(d -> d.outputIndex() + ":" + d.delta()))
                .containsExactly("1:1", "1: 2");
        List<Long> numbers = events.stream().map(e -> json(e).get("sequence_number").asLong()).toList();
        assertThat(numbers).isEqualTo(java.util.stream.LongStream.range(0, events.size()).boxed().toList());
        Response completed = events.get(events.size() - 1).completed().orElseThrow().response();
        assertThat(completed.output().get(0).reasoning().orElseThrow().summary().get(0).text())
                .isEqualTo("Count \"one\", then \u00e9 two");
        assertThat(text(completed)).isEqualTo("1 2");
    }

    @Test
    void should_show_a_server_side_tool_step_as_an_mcp_call() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.toolCalls(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}")))
                .enqueue(Script.reply("It is 42.")));

        List<ResponseStreamEvent> events = drain(alice().responses().createStreaming(ask("6*7?").build()));

        assertThat(events.stream().filter(e -> e.mcpCallCompleted().isPresent())).hasSize(1);
        Response done = events.get(events.size() - 1).completed().orElseThrow().response();
        ResponseOutputItem.McpCall call = done.output().get(0).mcpCall().orElseThrow();
        assertThat(call.name()).isEqualTo("calculator");
        assertThat(call.serverLabel()).isEqualTo("parley");
        assertThat(call.output()).contains("42");
        assertThat(text(done)).isEqualTo("It is 42.");
    }

    @Test
    void should_answer_a_background_response_at_once_then_retrieve_and_cancel_it() throws Exception {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(Script.tokens("partial").thenHang()));

        Response started = alice().responses().create(ask("Take your time").background(true).build());
        assertThat(started.status()).hasValueSatisfying(s -> assertThat(s).isIn(ResponseStatus.QUEUED, ResponseStatus.IN_PROGRESS));
        assertThat(server.model.awaitCalls(1, CompatServer.WAIT)).isTrue();
        assertThat(alice().responses().retrieve(started.id()).status()).contains(ResponseStatus.IN_PROGRESS);

        Response cancelled = alice().responses().cancel(started.id());

        assertThat(cancelled.status()).contains(ResponseStatus.CANCELLED);
        assertThat(alice().responses().retrieve(started.id()).status()).contains(ResponseStatus.CANCELLED);
        List<ResponseStreamEvent> replay = drain(alice().responses().retrieveStreaming(started.id()));
        Response last = replay.get(replay.size() - 1).incomplete().orElseThrow().response();
        assertThat(last.status()).contains(ResponseStatus.CANCELLED);
        // cancelling what has ended is a conflict
        assertThatThrownBy(() -> alice().responses().cancel(started.id()))
                .isInstanceOfSatisfying(UnexpectedStatusCodeException.class, e -> assertThat(e.statusCode()).isEqualTo(409));
    }

    @Test
    void should_resume_a_stream_after_a_sequence_number() {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(Script.tokens("a", "b", "c", "d")));
        List<ResponseStreamEvent> whole = drain(alice().responses().createStreaming(ask("letters").build()));
        String id = whole.get(0).created().orElseThrow().response().id();

        List<ResponseStreamEvent> resumed = drain(alice().responses().retrieveStreaming(
                ResponseRetrieveParams.builder().responseId(id).startingAfter(4L).build()));

        // the same events (the time a run completed is known to the second only once it is stored)
        assertThat(resumed).map(e -> withoutCompletedAt(json(e)))
                .isEqualTo(whole.subList(5, whole.size()).stream().map(e -> withoutCompletedAt(json(e))).toList());
        assertThat(json(resumed.get(0)).get("sequence_number").asLong()).isEqualTo(5);
    }

    @Test
    void should_list_a_responses_input_items() {
        server = CompatServer.start(ScriptedChatModel.echo());
        Response response = alice().responses().create(ask("Echo me").build());

        var items = alice().responses().inputItems().list(response.id()).data();

        assertThat(items).hasSize(1);
        assertThat(items.get(0).responseInputMessageItem().orElseThrow().content().get(0).inputText().orElseThrow().text())
                .isEqualTo("Echo me");
    }

    @Test
    void should_continue_from_an_earlier_response_on_a_branch() {
        server = CompatServer.start(ScriptedChatModel.replying("one", "two", "three"));
        Response first = alice().responses().create(ask("first").build());
        Response second = alice().responses().create(ask("second").previousResponseId(first.id()).build());

        Response branch = alice().responses().create(ask("instead").previousResponseId(first.id()).build());

        String conversation = first.conversation().orElseThrow().id();
        assertThat(second.conversation().orElseThrow().id()).isEqualTo(conversation);
        assertThat(branch.conversation().orElseThrow().id()).isEqualTo(conversation);
        List<String> path = alice().conversations().items()
                .list(ItemListParams.builder().conversationId(conversation).order(ItemListParams.Order.ASC).build()).data().stream()
                .map(i -> ObjectMappers.jsonMapper().valueToTree(i).at("/content/0/text").asText()).toList();
        assertThat(path).containsExactly("first", "one", "instead", "three");
    }

    @Test
    void should_round_trip_an_approval_as_mcp_approval_items() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.toolCalls(new ToolCall("call_9", "refund", "{\"order\":\"A1\"}")))
                .enqueue(Script.reply("Refunded.")));
        OpenAIClient client = alice();

        Response asking = client.responses().create(ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .input("Refund order A1").build());

        assertThat(asking.status()).contains(ResponseStatus.COMPLETED);
        ResponseOutputItem.McpApprovalRequest request = asking.output().get(asking.output().size() - 1).mcpApprovalRequest().orElseThrow();
        assertThat(request.name()).isEqualTo("refund");

        Response answered = client.responses().create(ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .previousResponseId(asking.id())
                .inputOfResponse(List.of(ResponseInputItem.ofMcpApprovalResponse(ResponseInputItem.McpApprovalResponse.builder()
                        .approvalRequestId(request.id()).approve(true).build())))
                .build());

        assertThat(answered.id()).isNotEqualTo(asking.id());
        assertThat(answered.status()).contains(ResponseStatus.COMPLETED);
        assertThat(answered.output()).anySatisfy(item -> assertThat(item.mcpCall()).hasValueSatisfying(call ->
                assertThat(call.output()).contains("refunded")));
        assertThat(text(answered)).isEqualTo("Refunded.");
        assertThat(client.responses().retrieve(answered.id()).output().size()).isEqualTo(answered.output().size());
    }

    @Test
    void should_append_instructions_and_system_input_to_the_agents_own_for_that_response() {
        server = CompatServer.start(ScriptedChatModel.echo());

        alice().responses().create(ResponseCreateParams.builder().model(CompatServer.AGENT).instructions("Answer in French.")
                .inputOfResponse(List.of(
                        ResponseInputItem.ofEasyInputMessage(com.openai.models.responses.EasyInputMessage.builder()
                                .role(com.openai.models.responses.EasyInputMessage.Role.SYSTEM).content("Be brief.").build()),
                        ResponseInputItem.ofEasyInputMessage(com.openai.models.responses.EasyInputMessage.builder()
                                .role(com.openai.models.responses.EasyInputMessage.Role.USER).content("Hello").build())))
                .build());

        dev.parley.chat.model.Message system = server.model.lastRequest().messages().get(0);
        assertThat(system.role()).isEqualTo(dev.parley.chat.model.Role.SYSTEM);
        assertThat(system.text()).isEqualTo("You are helpful.\n\nAnswer in French.\n\nBe brief.");
        assertThat(server.model.lastRequest().messages().get(server.model.lastRequest().messages().size() - 1).text()).isEqualTo("Hello");
    }

    @Test
    void should_answer_a_retry_with_the_same_idempotency_key_with_the_original_response() {
        server = CompatServer.start(ScriptedChatModel.replying("first answer", "second answer"));
        ResponseCreateParams keyed = ask("once").putAdditionalHeader("Idempotency-Key", "order-17").build();

        Response original = alice().responses().create(keyed);
        Response retry = alice().responses().create(keyed);

        assertThat(retry.id()).isEqualTo(original.id());
        assertThat(text(retry)).isEqualTo("first answer");
        assertThat(server.model.callCount()).isEqualTo(1);
    }

    @Test
    void should_record_the_clients_end_user_id_in_the_responses_metadata() {
        server = CompatServer.start(ScriptedChatModel.echo());

        @SuppressWarnings("deprecation")
        Response response = alice().responses().create(ask("hi").user("end-user-7").build());

        assertThat(alice().responses().retrieve(response.id()).metadata().orElseThrow()._additionalProperties().get("user"))
                .isEqualTo(JsonValue.from("end-user-7"));
    }

    @Test
    void should_refuse_a_user_over_budget_with_rate_limit_and_retry_after() {
        server = CompatServer.withService(ScriptedChatModel.builder().build().enqueue(Script.reply("costly").withUsage(1000, 1000)),
                b -> b.monthlyBudgetUsd(new java.math.BigDecimal("0.000001")));
        alice().responses().create(ask("spend").build());

        assertThatThrownBy(() -> alice().responses().create(ask("more").build())).isInstanceOfSatisfying(RateLimitException.class, e -> {
            assertThat(e.code()).contains("budget_exceeded");
            assertThat(e.headers().values("Retry-After")).isNotEmpty();
        });
    }

    @Test
    void should_take_every_decision_of_a_turn_in_one_answer() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.toolCalls(new ToolCall("call_a", "refund", "{\"order\":\"A\"}"),
                        new ToolCall("call_b", "refund", "{\"order\":\"B\"}")))
                .enqueue(Script.reply("Refunded A only.")));
        OpenAIClient client = alice();
        Response asking = client.responses().create(ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .input("Refund A and B").build());
        List<String> requests = asking.output().stream().flatMap(i -> i.mcpApprovalRequest().stream())
                .map(ResponseOutputItem.McpApprovalRequest::id).toList();
        assertThat(requests).containsExactly("call_a", "call_b");

        Response answered = client.responses().create(ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .previousResponseId(asking.id())
                .inputOfResponse(List.of(
                        ResponseInputItem.ofMcpApprovalResponse(ResponseInputItem.McpApprovalResponse.builder()
                                .approvalRequestId("call_a").approve(true).build()),
                        ResponseInputItem.ofMcpApprovalResponse(ResponseInputItem.McpApprovalResponse.builder()
                                .approvalRequestId("call_b").approve(false).reason("not this one").build())))
                .build());

        List<ResponseOutputItem.McpCall> calls = answered.output().stream().flatMap(i -> i.mcpCall().stream()).toList();
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).output()).contains("refunded");
        assertThat(calls.get(1).error()).isPresent();
        assertThat(text(answered)).isEqualTo("Refunded A only.");
        // a decided request cannot be decided again
        assertThatThrownBy(() -> client.responses().create(ResponseCreateParams.builder().model(CompatServer.APPROVING_AGENT)
                .previousResponseId(asking.id())
                .inputOfResponse(List.of(ResponseInputItem.ofMcpApprovalResponse(ResponseInputItem.McpApprovalResponse.builder()
                        .approvalRequestId("call_a").approve(true).build())))
                .build())).isInstanceOfSatisfying(UnexpectedStatusCodeException.class, e -> assertThat(e.statusCode()).isEqualTo(409));
    }

    @Test
    void should_end_a_streamed_response_when_the_run_waits_for_approval() {
        server = CompatServer.start(ScriptedChatModel.builder().build()
                .enqueue(Script.toolCalls(new ToolCall("call_a", "refund", "{}"), new ToolCall("call_b", "refund", "{}")))
                .enqueue(Script.reply("Done.")));

        List<ResponseStreamEvent> events = drain(alice().responses().createStreaming(ResponseCreateParams.builder()
                .model(CompatServer.APPROVING_AGENT).input("Refund both").build()));

        Response last = events.get(events.size() - 1).completed().orElseThrow().response();
        assertThat(last.output()).extracting(i -> i.mcpApprovalRequest().map(ResponseOutputItem.McpApprovalRequest::id).orElse("?"))
                .containsExactly("call_a", "call_b");
        assertThat(ObjectMappers.jsonMapper().valueToTree(alice().responses().retrieve(last.id())).get("output"))
                .isEqualTo(ObjectMappers.jsonMapper().valueToTree(last).get("output"));
    }

    // ---- errors as the SDK's typed exceptions ----

    @Test
    void should_raise_unauthorized_for_a_key_that_is_not_a_parley_token() {
        server = CompatServer.start(ScriptedChatModel.echo());

        assertThatThrownBy(() -> server.clientWithKey("sk-not-a-token").models().list())
                .isInstanceOf(UnauthorizedException.class);
    }

    @Test
    void should_raise_not_found_for_another_users_response_and_conversation() {
        server = CompatServer.start(ScriptedChatModel.echo());
        Response mine = alice().responses().create(ask("secret").build());
        OpenAIClient bob = server.client("bob");

        assertThatThrownBy(() -> bob.responses().retrieve(mine.id())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> bob.responses().cancel(mine.id())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> bob.conversations().retrieve(mine.conversation().orElseThrow().id()))
                .isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> bob.responses().retrieve("resp_doesnotexist")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_raise_a_conflict_when_the_conversation_is_busy() throws Exception {
        server = CompatServer.start(ScriptedChatModel.builder().build().enqueue(Script.hangUntilCancelled()));
        Response busy = alice().responses().create(ask("slow").background(true).build());
        String conversation = busy.conversation().orElseThrow().id();

        assertThatThrownBy(() -> alice().responses().create(ask("again").conversation(conversation).build()))
                .isInstanceOfSatisfying(UnexpectedStatusCodeException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(409);
                    assertThat(e.code()).contains("run_in_progress");
                });
        alice().responses().cancel(busy.id());
    }

    @Test
    void should_raise_rate_limit_with_retry_after() {
        server = CompatServer.start(ScriptedChatModel.echo(), c -> c.rateLimitPerMinute(2));
        OpenAIClient client = alice();
        client.models().list();
        client.models().list();

        assertThatThrownBy(() -> client.models().list()).isInstanceOfSatisfying(RateLimitException.class,
                e -> assertThat(e.headers().values("Retry-After")).isNotEmpty());
    }

    @Test
    void should_refuse_every_unsupported_parameter_naming_it() {
        server = CompatServer.start(ScriptedChatModel.echo());
        OpenAIClient client = alice();
        Response earlier = client.responses().create(ask("hi").build());

        assertParam(() -> client.responses().create(ask("x").putAdditionalBodyProperty("tools",
                JsonValue.from(List.of(Map.of("type", "function", "name", "f", "parameters", Map.of())))).build()), "tools");
        assertParam(() -> client.responses().create(ask("x").store(false).build()), "store");
        assertParam(() -> client.responses().create(ResponseCreateParams.builder().model("gpt-nope").input("x").build()), "model");
        assertParam(() -> client.responses().create(ask("x").conversation(earlier.conversation().orElseThrow().id())
                .previousResponseId(earlier.id()).build()), "previous_response_id");
        assertParam(() -> client.responses().create(ask("x").putAdditionalBodyProperty("frobnicate", JsonValue.from(1)).build()),
                "frobnicate");
        assertParam(() -> client.responses().create(ask("x").topP(0.2).build()), "top_p");
        assertParam(() -> client.responses().create(ResponseCreateParams.builder().model(CompatServer.AGENT)
                .inputOfResponse(List.of(ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
                        .callId("c").output("o").build()))).build()), "input[0].type");
    }

    static void assertParam(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String param) {
        assertThatThrownBy(call).isInstanceOfSatisfying(BadRequestException.class, e -> {
            assertThat(e.param()).as(e.getMessage()).contains(param);
            assertThat(e.type()).contains("invalid_request_error");
        });
    }

    @Test
    void should_keep_every_request_on_the_shared_rate_limit() {
        server = CompatServer.start(ScriptedChatModel.echo(), c -> c.rateLimitPerMinute(1));
        alice().models().list();

        assertThatThrownBy(() -> alice().conversations().create(ConversationCreateParams.builder().build()))
                .isInstanceOf(RateLimitException.class);
        List<String> unused = new ArrayList<>();
        assertThat(unused).isEmpty();
    }

    static void unused(OpenAIServiceException e) {
    }
}
