package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DemoChatModelTest {
    private static final IdGenerator IDS = IdGenerator.timeOrdered();
    private static final ThreadId THREAD = ThreadId.next(IDS);
    private static final List<ToolSpec> BOTH_TOOLS = List.of(CalculatorTool.create().spec(), ClockTool.create().spec());

    private final DemoChatModel model = new DemoChatModel(Duration.ZERO);
    private final List<String> tokens = new CopyOnWriteArrayList<>();
    private final ModelStreamListener listener = tokens::add;

    private static Message message(Role role, String text, List<ToolCall> calls, String toolCallId) {
        return new Message(MessageId.next(IDS), THREAD, null, 0, role, List.of(ContentPart.text(text)),
                MessageStatus.COMPLETED, calls, toolCallId, null, Instant.parse("2026-11-22T10:00:00Z"));
    }

    private static Message system() {
        return message(Role.SYSTEM, "You are a helpful assistant.", null, null);
    }

    private static Message user(String text) {
        return message(Role.USER, text, null, null);
    }

    private static ModelRequest request(List<ToolSpec> tools, Message... messages) {
        return new ModelRequest(null, List.of(messages), tools);
    }

    private ModelResponse ask(String text) {
        return model.complete(request(BOTH_TOOLS, system(), user(text)), listener, new Cancellation());
    }

    private ModelResponse answerTool(ModelResponse toolTurn, String userText, String toolOutput) {
        ToolCall call = toolTurn.toolCalls().get(0);
        Message assistant = message(Role.ASSISTANT, "", List.of(call), null);
        Message result = message(Role.TOOL, toolOutput, null, call.id());
        return model.complete(request(BOTH_TOOLS, system(), user(userText), assistant, result), listener, new Cancellation());
    }

    @Test
    void should_quote_the_message_and_count_its_words_streamed_word_by_word() {
        // when
        ModelResponse response = ask("Hello there, how are you?");

        // then
        assertThat(response.text()).isEqualTo("You said: \"Hello there, how are you?\" (5 words).");
        assertThat(tokens).containsExactly("You", " said:", " \"Hello", " there,", " how", " are", " you?\"", " (5", " words).");
        assertThat(String.join("", tokens)).isEqualTo(response.text());
        assertThat(response.toolCalls()).isEmpty();
        assertThat(response.finishReason()).isEqualTo("stop");
        assertThat(response.model()).isEqualTo("parley-demo");
    }

    @Test
    void should_report_token_usage_from_the_words_in_and_the_tokens_out() {
        // when
        ModelResponse response = ask("one two three");

        // then: 5 words of system prompt + 3 of the message; 7 tokens streamed
        assertThat(response.usage()).isNotNull();
        assertThat(response.usage().estimated()).isFalse();
        assertThat(response.usage().inputTokens()).isEqualTo(8);
        assertThat(response.usage().outputTokens()).isEqualTo(tokens.size()).isEqualTo(7);
    }

    @Test
    void should_say_one_word_in_the_singular_and_be_deterministic() {
        assertThat(ask("Hi").text()).isEqualTo("You said: \"Hi\" (1 word).");
        assertThat(ask("Hi").text()).isEqualTo(ask("Hi").text());
    }

    @Test
    void should_quote_at_most_fifty_words_of_a_long_message() {
        // given
        String longMessage = "word ".repeat(80).strip();

        // when
        String text = ask(longMessage).text();

        // then
        assertThat(text).startsWith("You said: \"word word").endsWith(" ...\" (80 words).");
    }

    @Test
    void should_count_to_n_one_number_per_token() {
        // when
        ModelResponse response = ask("count to 5");

        // then
        assertThat(tokens).containsExactly("1", " 2", " 3", " 4", " 5");
        assertThat(response.text()).isEqualTo("1 2 3 4 5");
        assertThat(response.usage().outputTokens()).isEqualTo(5);
    }

    @Test
    void should_count_to_the_upper_limit_of_ten_thousand() {
        // when
        ModelResponse response = ask("Count to 10000");

        // then
        assertThat(tokens).hasSize(10_000).endsWith(" 10000");
        assertThat(response.text()).startsWith("1 2 3 ").endsWith(" 9999 10000");
    }

    @Test
    void should_refuse_to_count_outside_one_to_ten_thousand() {
        assertThat(ask("count to 10001").text()).isEqualTo("I can count from 1 to 10000 only.");
        assertThat(ask("count to 0").text()).isEqualTo("I can count from 1 to 10000 only.");
        assertThat(ask("count to 99999999999999999999").text()).isEqualTo("I can count from 1 to 10000 only.");
    }

    @Test
    void should_wait_the_token_delay_between_tokens() {
        // given
        DemoChatModel slow = new DemoChatModel(Duration.ofMillis(20));
        long start = System.nanoTime();

        // when
        slow.complete(request(BOTH_TOOLS, user("count to 6")), listener, new Cancellation());

        // then: five pauses between six tokens
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void should_stop_streaming_at_once_when_cancelled() throws Exception {
        // given
        DemoChatModel slow = new DemoChatModel(Duration.ofSeconds(30));
        Cancellation cancellation = new Cancellation();
        CountDownLatch firstToken = new CountDownLatch(1);
        CompletableFuture<ModelResponse> call = CompletableFuture.supplyAsync(() -> slow.complete(
                request(BOTH_TOOLS, user("count to 5000")), delta -> {
                    tokens.add(delta);
                    firstToken.countDown();
                }, cancellation));
        assertThat(firstToken.await(10, TimeUnit.SECONDS)).isTrue();

        // when
        cancellation.cancel();

        // then: the 30 s pause is cut short
        assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
        assertThat(tokens).containsExactly("1");
    }

    @Test
    void should_stream_the_same_turn_asynchronously_with_the_token_delay_between_tokens() throws Exception {
        // given
        DemoChatModel slow = new DemoChatModel(Duration.ofMillis(20));
        ModelRequest request = request(BOTH_TOOLS, user("count to 6"));
        ModelResponse expected = model.complete(request, t -> { }, new Cancellation());
        long start = System.nanoTime();

        // when
        CompletableFuture<ModelResponse> call = slow.completeAsync(request, listener, new Cancellation()).toCompletableFuture();

        // then the first token is heard at once, the answer comes after five pauses, the same as complete's
        assertThat(tokens).containsExactly("1");
        assertThat(call).isNotDone();
        ModelResponse response = call.get(10, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(response).isEqualTo(expected);
        assertThat(String.join("", tokens)).isEqualTo(expected.text());
    }

    @Test
    void should_fail_an_asynchronous_turn_at_once_when_cancelled() {
        // given
        DemoChatModel slow = new DemoChatModel(Duration.ofSeconds(30));
        Cancellation cancellation = new Cancellation();
        CompletableFuture<ModelResponse> call = slow.completeAsync(request(BOTH_TOOLS, user("count to 5000")), listener, cancellation)
                .toCompletableFuture();

        // when
        cancellation.cancel();

        // then
        assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
        assertThat(tokens).containsExactly("1");
    }

    @Test
    void should_not_start_when_already_cancelled() {
        Cancellation cancellation = new Cancellation();
        cancellation.cancel();
        assertThatThrownBy(() -> model.complete(request(BOTH_TOOLS, user("hi")), listener, cancellation))
                .isInstanceOf(RunCancelledException.class);
        assertThat(tokens).isEmpty();
    }

    @Test
    void should_call_the_calculator_tool_for_calculate() {
        // when
        ModelResponse response = ask("calculate 6*7");

        // then
        assertThat(response.text()).isEmpty();
        assertThat(tokens).isEmpty();
        assertThat(response.finishReason()).isEqualTo("tool_calls");
        assertThat(response.toolCalls()).singleElement().satisfies(call -> {
            assertThat(call.name()).isEqualTo("calculator");
            assertThat(call.arguments()).isEqualTo("{\"expression\":\"6*7\"}");
            assertThat(call.id()).isNotBlank();
        });
        assertThat(response.usage().outputTokens()).isPositive();
    }

    @Test
    void should_answer_expression_equals_result_from_the_calculator_result() {
        // given
        ModelResponse toolTurn = ask("calculate 6*7");

        // when
        ModelResponse answer = answerTool(toolTurn, "calculate 6*7", "42");

        // then
        assertThat(answer.text()).isEqualTo("6*7 = 42");
        assertThat(answer.toolCalls()).isEmpty();
        assertThat(tokens).containsExactly("6*7", " =", " 42");
    }

    @Test
    void should_say_so_when_the_calculator_failed() {
        // given
        ModelResponse toolTurn = ask("calculate 1/0");

        // when
        ModelResponse answer = answerTool(toolTurn, "calculate 1/0", "Division by zero (at position 2).");

        // then
        assertThat(answer.text()).isEqualTo("I could not calculate 1/0: Division by zero (at position 2).");
    }

    @Test
    void should_read_the_failure_reason_from_an_error_wrapper() {
        ModelResponse toolTurn = ask("calculate 2 +");
        assertThat(answerTool(toolTurn, "calculate 2 +", "{\"error\": \"The expression ends too early\"}").text())
                .isEqualTo("I could not calculate 2 +: The expression ends too early.");
        assertThat(answerTool(toolTurn, "calculate 2 +", "Error: bad input").text())
                .isEqualTo("I could not calculate 2 +: bad input.");
    }

    @Test
    void should_keep_the_expression_as_typed_without_a_trailing_question_mark() {
        assertThat(ask("Calculate (1 + 2) * 3 ?").toolCalls().get(0).arguments())
                .isEqualTo("{\"expression\":\"(1 + 2) * 3\"}");
    }

    @Test
    void should_ask_for_an_expression_when_calculate_has_none() {
        ModelResponse response = ask("calculate");
        assertThat(response.toolCalls()).isEmpty();
        assertThat(response.text()).startsWith("Tell me what to calculate");
    }

    @Test
    void should_call_the_clock_tool_for_a_question_about_the_time_or_date() {
        assertThat(ask("What time is it?").toolCalls()).singleElement()
                .satisfies(call -> assertThat(call.name()).isEqualTo("clock"));
        assertThat(ask("Which DATE is today").toolCalls()).singleElement()
                .satisfies(call -> assertThat(call.name()).isEqualTo("clock"));
    }

    @Test
    void should_not_mistake_words_that_merely_contain_time_or_date_for_a_question_about_them() {
        assertThat(ask("please validate this candidate").toolCalls()).isEmpty();
    }

    @Test
    void should_answer_with_the_time_the_clock_gave() {
        // given
        ModelResponse toolTurn = ask("what is the date today?");

        // when
        ModelResponse answer = answerTool(toolTurn, "what is the date today?", "2026-11-22T10:30:00Z");

        // then
        assertThat(answer.text()).isEqualTo("The current UTC time is 2026-11-22T10:30:00Z.");
    }

    @Test
    void should_say_so_when_the_clock_failed() {
        ModelResponse toolTurn = ask("time?");
        assertThat(answerTool(toolTurn, "time?", "clock unavailable").text())
                .isEqualTo("I could not read the clock: clock unavailable.");
    }

    @Test
    void should_call_any_offered_tool_named_after_use_with_its_json_arguments_and_say_what_it_answered() {
        // given
        ToolSpec echo = new ToolSpec("everything_echo", "Echoes", null);
        Message question = user("use everything_echo {\"message\": \"hi\"}");

        // when
        ModelResponse call = model.complete(request(List.of(echo), system(), question), listener, new Cancellation());
        ModelResponse noArguments = model.complete(request(List.of(echo), system(), user("use everything_echo")), listener, new Cancellation());
        ModelResponse missing = model.complete(request(List.of(), system(), question), listener, new Cancellation());

        // then
        assertThat(call.toolCalls()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("everything_echo");
            assertThat(c.arguments()).isEqualTo("{\"message\": \"hi\"}");
        });
        assertThat(noArguments.toolCalls().get(0).arguments()).isEqualTo("{}");
        assertThat(missing.toolCalls()).isEmpty();
        assertThat(missing.text()).isEqualTo("I cannot use everything_echo here: this agent has no such tool.");
        Message assistant = message(Role.ASSISTANT, "", call.toolCalls(), null);
        Message result = message(Role.TOOL, "Echo: hi", null, call.toolCalls().get(0).id());
        ModelResponse answer = model.complete(request(List.of(echo), system(), question, assistant, result), listener, new Cancellation());
        assertThat(answer.text()).isEqualTo("The everything_echo tool answered: Echo: hi");
    }

    @Test
    void should_not_call_tools_that_the_agent_does_not_offer() {
        // when
        ModelResponse calc = model.complete(request(List.of(), user("calculate 1+1")), listener, new Cancellation());
        ModelResponse time = model.complete(request(List.of(), user("what time is it")), listener, new Cancellation());

        // then
        assertThat(calc.toolCalls()).isEmpty();
        assertThat(calc.text()).contains("no calculator tool");
        assertThat(time.toolCalls()).isEmpty();
        assertThat(time.text()).contains("no clock tool");
    }

    @Test
    void should_fail_with_model_error_on_a_message_starting_with_slash_fail() {
        assertThatThrownBy(() -> ask("/fail please"))
                .isInstanceOf(ModelException.class)
                .satisfies(e -> assertThat(((ModelException) e).code()).isEqualTo("model_error"));
        assertThat(tokens).isEmpty();
    }

    @Test
    void should_decide_from_the_last_user_message_of_a_longer_history() {
        // given
        List<Message> history = new ArrayList<>(List.of(system(), user("count to 3"),
                message(Role.ASSISTANT, "1 2 3", null, null), user("calculate 2*2")));

        // when
        ModelResponse response = model.complete(new ModelRequest(null, history, BOTH_TOOLS), listener, new Cancellation());

        // then
        assertThat(response.toolCalls()).singleElement().satisfies(call -> assertThat(call.arguments()).contains("2*2"));
    }

    @Test
    void should_report_the_input_before_a_cached_message_as_read_from_the_prompt_cache() {
        // given: 5 words of system prompt, 4 of a turn, 4 of its answer, then "/cached Hello there" (3 words)
        List<Message> history = List.of(system(), user("my name is Ada"), message(Role.ASSISTANT, "Nice to meet you", null, null),
                user("/cached Hello there"));

        // when
        ModelResponse response = model.complete(new ModelRequest(null, history, BOTH_TOOLS), listener, new Cancellation());

        // then: the rest of the message is answered as any other; the 13 tokens before it came from the cache
        assertThat(response.text()).isEqualTo("You said: \"Hello there\" (2 words).");
        assertThat(response.usage().inputTokens()).isEqualTo(16);
        assertThat(response.usage().cachedInputTokens()).isEqualTo(13);
    }

    @Test
    void should_follow_the_other_rules_after_cached_and_keep_reporting_cache_reads_after_a_tool_call() {
        // when
        ModelResponse toolTurn = ask("/cached calculate 6*7");
        ModelResponse answer = answerTool(toolTurn, "/cached calculate 6*7", "42");

        // then
        assertThat(toolTurn.toolCalls()).singleElement().satisfies(call -> assertThat(call.name()).isEqualTo("calculator"));
        assertThat(toolTurn.usage().cachedInputTokens()).isEqualTo(5);
        assertThat(answer.text()).isEqualTo("6*7 = 42");
        assertThat(answer.usage().cachedInputTokens()).isEqualTo(5);
    }

    @Test
    void should_read_nothing_from_the_cache_without_the_cached_prefix() {
        assertThat(ask("Hello").usage().cachedInputTokens()).isZero();
        assertThat(ask("/cachedHello").usage().cachedInputTokens()).isZero();
    }

    @Test
    void should_stop_an_answer_after_the_output_token_limit_of_the_request() {
        // given
        ModelRequest limited = new ModelRequest(null, List.of(system(), user("count to 10")), BOTH_TOOLS,
                new ModelSettings(0.5, 3, null));
        ModelRequest roomy = new ModelRequest(null, List.of(system(), user("count to 2")), BOTH_TOOLS, new ModelSettings(null, 3, null));

        // when
        ModelResponse cut = model.complete(limited, listener, new Cancellation());
        List<String> cutTokens = List.copyOf(tokens);
        ModelResponse whole = model.complete(roomy, listener, new Cancellation());

        // then
        assertThat(cut.text()).isEqualTo("1 2 3");
        assertThat(cutTokens).containsExactly("1", " 2", " 3");
        assertThat(cut.finishReason()).isEqualTo("length");
        assertThat(cut.usage().outputTokens()).isEqualTo(3);
        assertThat(whole.text()).isEqualTo("1 2");
        assertThat(whole.finishReason()).isEqualTo("stop");
    }

    @Test
    void should_name_itself_as_the_default_model() {
        assertThat(model.defaultModel()).isEqualTo("parley-demo");
        assertThat(DemoAgents.prices()).containsKey("parley-demo");
    }
}
