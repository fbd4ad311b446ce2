package dev.parley.adapter.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ScriptedChatModelTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private final ThreadId thread = Fixtures.threadId();
    private final Recorder recorder = new Recorder();

    private ModelRequest ask(String text) {
        Message system = Message.system(Fixtures.messageId(), thread, "Be brief", Fixtures.T0);
        Message user = Fixtures.aMessage().inThread(thread).withText(text).build();
        return new ModelRequest(null, List.of(system, user), List.of());
    }

    @Test
    void should_stream_a_reply_word_by_word() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().reply("Hello  brave new\nworld").build();

        // when
        ModelResponse response = model.complete(ask("hi"), recorder, new Cancellation());

        // then
        assertThat(recorder.tokens).containsExactly("Hello", "  brave", " new", "\nworld");
        assertThat(String.join("", recorder.tokens)).isEqualTo(response.text()).isEqualTo("Hello  brave new\nworld");
        assertThat(response.finishReason()).isEqualTo("stop");
        assertThat(response.usage()).isNull();
        assertThat(response.toolCalls()).isEmpty();
    }

    @Test
    void should_stream_exactly_the_given_tokens_with_usage() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().replyTokens("Hel", "lo", " 👋🏽").usage(12, 3).build();

        // when
        ModelResponse response = model.complete(ask("hi"), recorder, new Cancellation());

        // then
        assertThat(recorder.tokens).containsExactly("Hel", "lo", " 👋🏽");
        assertThat(response.text()).isEqualTo("Hello 👋🏽");
        assertThat(response.usage()).isEqualTo(Usage.reported(12, 3));
    }

    @Test
    void should_stream_thinking_apart_from_the_answer() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().thinking("Let me think").reply("42").build();

        // when
        ModelResponse response = model.complete(ask("6*7?"), recorder, new Cancellation());

        // then
        assertThat(String.join("", recorder.thinking)).isEqualTo("Let me think");
        assertThat(recorder.tokens).containsExactly("42");
        assertThat(response.text()).isEqualTo("42");
    }

    @Test
    void should_ask_for_tool_calls() {
        // given
        ToolCall call = new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}");
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(call).reply("42").build();

        // when
        ModelResponse first = model.complete(ask("6*7?"), recorder, new Cancellation());
        ModelResponse second = model.complete(ask("6*7?"), recorder, new Cancellation());

        // then
        assertThat(first.toolCalls()).containsExactly(call);
        assertThat(first.finishReason()).isEqualTo("tool_calls");
        assertThat(first.text()).isEmpty();
        assertThat(second.text()).isEqualTo("42");
    }

    @Test
    void should_fail_with_the_scripted_code() {
        ScriptedChatModel model = ScriptedChatModel.builder().fail("model_rate_limited", "slow down").build();

        assertThatThrownBy(() -> model.complete(ask("hi"), recorder, new Cancellation()))
                .isInstanceOfSatisfying(ModelException.class, e -> {
                    assertThat(e.code()).isEqualTo("model_rate_limited");
                    assertThat(e.getMessage()).isEqualTo("slow down");
                });
    }

    @Test
    void should_fail_after_streaming_some_tokens() {
        ScriptedChatModel model = ScriptedChatModel.builder().failAfterTokens("model_connection_lost", "gone", "Par", "tial").build();

        assertThatThrownBy(() -> model.complete(ask("hi"), recorder, new Cancellation())).isInstanceOf(ModelException.class);
        assertThat(recorder.tokens).containsExactly("Par", "tial");
    }

    @Test
    void should_play_turns_in_order_then_echo_the_last_user_message() {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("one", "two");

        // when
        List<String> answers = new ArrayList<>();
        for (String q : List.of("a", "b", "echo me ✨")) {
            answers.add(model.complete(ask(q), ModelStreamListener.ignoring(), new Cancellation()).text());
        }

        // then
        assertThat(answers).containsExactly("one", "two", "echo me ✨");
        assertThat(model.remainingTurns()).isZero();
    }

    @Test
    void should_answer_with_the_given_fallback_once_turns_run_out() {
        ScriptedChatModel model = ScriptedChatModel.builder()
                .respondWith(request -> Script.reply("messages: " + request.messages().size())).build();

        assertThat(model.complete(ask("x"), recorder, new Cancellation()).text()).isEqualTo("messages: 2");
    }

    @Test
    void should_decide_a_dynamic_turn_from_the_request() {
        ScriptedChatModel model = ScriptedChatModel.builder()
                .turn(request -> Script.reply("You said " + request.messages().get(1).text())).build();

        assertThat(model.complete(ask("ping"), recorder, new Cancellation()).text()).isEqualTo("You said ping");
    }

    @Test
    void should_take_turns_added_while_in_use() {
        ScriptedChatModel model = ScriptedChatModel.echo();

        model.enqueue(Script.tokens("late").withModel("big-model"));

        ModelResponse response = model.complete(ask("x"), recorder, new Cancellation());
        assertThat(response.text()).isEqualTo("late");
        assertThat(response.model()).isEqualTo("big-model");
    }

    @Test
    void should_record_every_request() {
        // given
        ScriptedChatModel model = ScriptedChatModel.echo();
        ModelRequest first = ask("one");
        ModelRequest second = ask("two");

        // when
        model.complete(first, recorder, new Cancellation());
        model.complete(second, recorder, new Cancellation());

        // then
        assertThat(model.requests()).containsExactly(first, second);
        assertThat(model.lastRequest()).isEqualTo(second);
        assertThat(model.callCount()).isEqualTo(2);
    }

    @Test
    void should_stop_hanging_when_cancelled() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().hangUntilCancelled().build();
        Cancellation cancellation = new Cancellation();
        CompletableFuture<ModelResponse> call = CompletableFuture.supplyAsync(() -> model.complete(ask("x"), recorder, cancellation));
        assertThat(model.awaitCalls(1, PATIENCE)).isTrue();

        // when
        cancellation.cancel();

        // then
        assertThatThrownBy(() -> call.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(RunCancelledException.class);
    }

    @Test
    void should_cut_a_token_delay_short_when_cancelled() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().replyTokens("a", "b").tokenDelay(Duration.ofHours(1)).build();
        Cancellation cancellation = new Cancellation();
        CompletableFuture<ModelResponse> call = CompletableFuture.supplyAsync(() -> model.complete(ask("x"), recorder, cancellation));
        assertThat(model.awaitCalls(1, PATIENCE)).isTrue();

        // when
        cancellation.cancel();

        // then
        assertThatThrownBy(() -> call.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .hasCauseInstanceOf(RunCancelledException.class);
        assertThat(recorder.tokens).isEmpty();
    }

    @Test
    void should_block_mid_stream_until_released() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a", "b").build();
        CompletableFuture<ModelResponse> call = CompletableFuture.supplyAsync(() -> model.complete(ask("x"), recorder, new Cancellation()));

        // when
        assertThat(model.awaitBlocked(PATIENCE)).isTrue();
        List<String> streamedBeforeRelease = List.copyOf(recorder.tokens);
        model.release();

        // then
        assertThat(streamedBeforeRelease).containsExactly("a", "b");
        assertThat(call.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).text()).isEqualTo("ab");
    }

    @Test
    void should_throw_cancelled_when_cancelled_while_blocked() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("Par", "tial").build();
        Cancellation cancellation = new Cancellation();
        CompletableFuture<ModelResponse> call = CompletableFuture.supplyAsync(() -> model.complete(ask("x"), recorder, cancellation));
        assertThat(model.awaitBlocked(PATIENCE)).isTrue();

        // when
        cancellation.cancel();

        // then
        assertThatThrownBy(() -> call.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                .hasCauseInstanceOf(RunCancelledException.class);
        assertThat(recorder.tokens).containsExactly("Par", "tial");
    }

    @Test
    void should_pass_a_block_released_before_it_is_reached() {
        ScriptedChatModel model = ScriptedChatModel.builder().turn(Script.tokens("a").thenBlock().thenTokens("b")).build();

        model.release();

        assertThat(model.complete(ask("x"), recorder, new Cancellation()).text()).isEqualTo("ab");
    }

    @Test
    void should_not_start_streaming_when_already_cancelled() {
        ScriptedChatModel model = ScriptedChatModel.replying("never");
        Cancellation cancellation = new Cancellation();
        cancellation.cancel();

        assertThatThrownBy(() -> model.complete(ask("x"), recorder, cancellation)).isInstanceOf(RunCancelledException.class);
        assertThat(recorder.tokens).isEmpty();
    }

    @Test
    void should_treat_an_interrupt_as_a_cancel() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().hangUntilCancelled().build();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                model.complete(ask("x"), recorder, new Cancellation());
                outcome.complete(null);
            } catch (RuntimeException e) {
                outcome.complete(e);
            }
        });
        caller.start();
        assertThat(model.awaitCalls(1, PATIENCE)).isTrue();

        // when
        caller.interrupt();

        // then
        assertThat(outcome.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(RunCancelledException.class);
    }

    @Test
    void should_give_each_concurrent_call_its_own_turn() throws Exception {
        // given
        ScriptedChatModel.Builder builder = ScriptedChatModel.builder().defaultTokenDelay(Duration.ofMillis(1));
        for (int i = 0; i < 10; i++) {
            builder.reply("answer " + i);
        }
        ScriptedChatModel model = builder.build();

        // when
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> model.complete(ask("q"), ModelStreamListener.ignoring(),
                    new Cancellation()).text()));
        }
        List<String> answers = new ArrayList<>();
        for (CompletableFuture<String> c : calls) {
            answers.add(c.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        }

        // then
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            expected.add("answer " + i);
        }
        assertThat(answers).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void should_refuse_a_builder_adjustment_without_a_turn() {
        assertThatThrownBy(() -> ScriptedChatModel.builder().usage(1, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> ScriptedChatModel.builder().thinking("dangling").build()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void should_report_its_default_model() {
        assertThat(ScriptedChatModel.echo().defaultModel()).isEqualTo("scripted");
        assertThat(ScriptedChatModel.builder().defaultModel("tiny").build().defaultModel()).isEqualTo("tiny");
    }

    /** Collects what a model streams (from any thread). */
    private static final class Recorder implements ModelStreamListener {
        final List<String> tokens = Collections.synchronizedList(new ArrayList<>());
        final List<String> thinking = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onToken(String delta) {
            tokens.add(delta);
        }

        @Override
        public void onThinking(String delta) {
            thinking.add(delta);
        }
    }
}
