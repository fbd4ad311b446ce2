package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Models and tools that hang are bounded by timeouts: the run ends, its thread goes on. */
class TimeoutTest {
    private final AtomicBoolean release = new AtomicBoolean();
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        release.set(true);
        if (chat != null) {
            chat.close();
        }
    }

    private ChatHarness harness(ChatModel model, UnaryOperator<ChatServiceBuilder> customize, Tool... tools) {
        return ChatHarness.custom(InMemoryAdapters.store(), model, List.of(ChatHarness.agent(null, tools)), customize);
    }

    @Test
    void should_fail_with_model_timeout_and_keep_the_streamed_text_when_the_model_hangs() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("Half", " done").build();
        chat = harness(model, b -> b.modelTimeout(Duration.ofMillis(200)));
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "hello").run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_timeout");
        assertThat(outcome.responseText()).isEqualTo("Half done");
        assertThat(outcome.assistantMessage().status()).isEqualTo(MessageStatus.INCOMPLETE);
        List<RunEvent> events = chat.events(outcome.run().id());
        Events.assertWellFormed(events);
        assertThat(((RunEvent.Error) Events.last(events)).code()).isEqualTo("model_timeout");
    }

    @Test
    void should_end_the_run_and_let_the_thread_go_on_when_the_model_ignores_its_timeout() {
        // given a model whose first call streams a token, then ignores cancels and interrupts until the test ends
        AtomicInteger calls = new AtomicInteger();
        ChatModel stubborn = (request, listener, cancellation) -> {
            if (calls.incrementAndGet() > 1) {
                listener.onToken("fine");
                return ModelResponse.text("fine", null);
            }
            listener.onToken("Half");
            while (!release.get()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            return ModelResponse.text("Half and more", null);
        };
        chat = harness(stubborn, b -> b.modelTimeout(Duration.ofMillis(100)).cancelTimeout(Duration.ofMillis(200)));
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "hello").run().id());

        // then the run ended without its model
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_timeout");
        assertThat(outcome.responseText()).isEqualTo("Half");
        Events.assertWellFormed(chat.events(outcome.run().id()));
        // and the thread takes the next message
        RunOutcome next = chat.awaitEnd(chat.send(thread.id(), "again").run().id());
        assertThat(next.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(chat.history(thread.id())).extracting(Message::text).containsExactly("hello", "Half", "again", "fine");
    }

    @Test
    void should_go_on_without_a_tool_that_ignores_its_cancel_and_never_returns() throws Exception {
        // given a tool that spins until the test ends, deaf to interrupts and cancels
        CountDownLatch toolStarted = new CountDownLatch(1);
        Tool deaf = TestTool.named("weather", ctx -> {
            toolStarted.countDown();
            while (!release.get()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            return "too late";
        }).withTimeout(Duration.ofMillis(100));
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(new ToolCall("call_1", "weather", "{}"))
                .reply("No weather today").build();
        chat = harness(model, b -> b, deaf);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "weather?").run().id());

        // then
        assertThat(toolStarted.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("No weather today");
        Step toolStep = outcome.steps().get(1);
        assertThat(toolStep.status()).isEqualTo(StepStatus.FAILED);
        assertThat(toolStep.error()).startsWith("tool_timeout");
    }
}
