package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.AwaitedSend;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A model that answers asynchronously ({@link AsyncChatModel}) is waited for without a run thread. */
class AsyncModelTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    /** Run tasks under way on the service's run executor. */
    private final AtomicInteger busyRunThreads = new AtomicInteger();
    /** While set, run tasks wait in {@link #held} instead of running. */
    private volatile boolean holdRunTasks;
    private final List<Runnable> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AsyncFake model = new AsyncFake();
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        model.calls.forEach(c -> c.answer.cancel(false));
        if (chat != null) {
            chat.close();
        }
        pool.shutdownNow();
    }

    /** Each call waits in {@link #calls} until the test answers it. */
    static final class AsyncFake implements AsyncChatModel {
        final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();

        @Override
        public CompletionStage<ModelResponse> completeAsync(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
            Call call = new Call(request, listener, cancellation, new CompletableFuture<>());
            cancellation.onCancel(() -> call.answer.completeExceptionally(new RunCancelledException()));
            calls.add(call);
            return call.answer;
        }

        Call next() throws InterruptedException {
            Call call = calls.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(call).as("a model call").isNotNull();
            return call;
        }
    }

    record Call(ModelRequest request, ModelStreamListener listener, Cancellation cancellation, CompletableFuture<ModelResponse> answer) {
        /** Streams {@code parts} from another thread, then answers with their text. */
        void answer(String... parts) {
            CompletableFuture.runAsync(() -> {
                StringBuilder text = new StringBuilder();
                for (String part : parts) {
                    listener.onToken(part);
                    text.append(part);
                }
                answer.complete(ModelResponse.text(text.toString(), Usage.reported(5, parts.length)));
            });
        }
    }

    private ChatHarness harness(UnaryOperator<ChatServiceBuilder> customize, Tool... tools) {
        ExecutorService runThreads = new AbstractExecutorService() {
            @Override
            public void execute(Runnable task) {
                if (holdRunTasks) {
                    held.add(task);
                    return;
                }
                pool.execute(() -> {
                    busyRunThreads.incrementAndGet();
                    try {
                        task.run();
                    } finally {
                        busyRunThreads.decrementAndGet();
                    }
                });
            }

            @Override
            public void shutdown() {
            }

            @Override
            public List<Runnable> shutdownNow() {
                return List.of();
            }

            @Override
            public boolean isShutdown() {
                return false;
            }

            @Override
            public boolean isTerminated() {
                return false;
            }

            @Override
            public boolean awaitTermination(long timeout, TimeUnit unit) {
                return true;
            }
        };
        return ChatHarness.custom(InMemoryAdapters.store(), model, List.of(ChatHarness.agent(null, tools)),
                b -> customize.apply(b.executor(runThreads)));
    }

    @Test
    void should_complete_a_run_whose_model_answers_later_with_no_run_thread_waiting_meanwhile() throws Exception {
        // given
        chat = harness(b -> b);
        ChatThread thread = chat.newThread(ALICE);

        // when the run waits for its model
        Run run = chat.send(thread.id(), "hello").run();
        Call call = model.next();

        // then no run thread waits with it
        ChatHarness.eventually("no run thread busy", () -> busyRunThreads.get() == 0);
        assertThat(chat.storedRun(run.id()).status()).isEqualTo(RunStatus.IN_PROGRESS);

        // when the model answers, on a thread of its own
        call.answer("Hel", "lo");

        // then the run completes as with any model
        RunOutcome outcome = chat.awaitEnd(run.id());
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Hello");
        List<RunEvent> events = chat.events(run.id());
        Events.assertWellFormed(events);
        assertThat(events).filteredOn(e -> e instanceof RunEvent.Token).extracting(e -> ((RunEvent.Token) e).content())
                .containsExactly("Hel", "lo");
        assertThat(outcome.run().usage().outputTokens()).isEqualTo(2);
    }

    @Test
    void should_run_the_tools_an_asynchronous_answer_asks_for_and_go_on_to_the_next_turn() throws Exception {
        // given
        AtomicInteger toolRuns = new AtomicInteger();
        chat = harness(b -> b, TestTool.named("weather", context -> {
            toolRuns.incrementAndGet();
            return "sunny";
        }));
        ChatThread thread = chat.newThread(ALICE);
        Run run = chat.send(thread.id(), "weather in Oslo?").run();

        // when the first turn asks for a tool, later, and the second answers
        Call first = model.next();
        ChatHarness.eventually("no run thread busy", () -> busyRunThreads.get() == 0);
        first.answer().complete(new ModelResponse("", List.of(new ToolCall("call_1", "weather", "{\"city\":\"Oslo\"}")),
                Usage.reported(5, 1), "tool_calls", null));
        Call second = model.next();
        ChatHarness.eventually("no run thread busy", () -> busyRunThreads.get() == 0);
        assertThat(second.request().messages()).extracting(Message::role).contains(Role.TOOL);
        second.answer("It is sunny");

        // then
        RunOutcome outcome = chat.awaitEnd(run.id());
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("It is sunny");
        assertThat(toolRuns).hasValue(1);
        Events.assertWellFormed(chat.events(run.id()));
        assertThat(chat.history(thread.id())).extracting(Message::role)
                .containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT);
    }

    @Test
    void should_end_a_run_waiting_for_its_model_without_a_thread_as_cancelled_keeping_its_text() throws Exception {
        // given a run whose model streamed some text and waits
        chat = harness(b -> b);
        ChatThread thread = chat.newThread(ALICE);
        Run run = chat.send(thread.id(), "hello").run();
        Call call = model.next();
        call.listener().onToken("Half");
        ChatHarness.eventually("no run thread busy", () -> busyRunThreads.get() == 0);

        // when
        Run cancelled = chat.service.cancelActiveRun(ALICE, thread.id());

        // then the run ends at once, its text kept, and the model is told
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(call.cancellation().isCancelled()).isTrue();
        RunOutcome outcome = chat.awaitEnd(run.id());
        assertThat(outcome.responseText()).isEqualTo("Half");
        assertThat(outcome.assistantMessage().status()).isEqualTo(MessageStatus.INCOMPLETE);
        List<RunEvent> events = chat.events(run.id());
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOf(RunEvent.Cancelled.class);
        // and the thread takes the next message
        Run next = chat.send(thread.id(), "again").run();
        model.next().answer("fine");
        assertThat(chat.awaitEnd(next.id()).run().status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void should_end_the_run_on_the_cancelling_thread_before_a_run_thread_takes_up_the_failed_call() throws Exception {
        // given a run waiting for its model, and no run thread free to take up what the model answers
        chat = harness(b -> b.cancelTimeout(Duration.ofSeconds(30)));
        ChatThread thread = chat.newThread(ALICE);
        Run run = chat.send(thread.id(), "hello").run();
        Call call = model.next();
        call.listener().onToken("Half");
        ChatHarness.eventually("no run thread busy", () -> busyRunThreads.get() == 0);
        holdRunTasks = true;

        // when (the model fails its call on the cancel, on the cancelling thread)
        long start = System.nanoTime();
        Run cancelled = chat.service.cancelActiveRun(ALICE, thread.id());

        // then the cancel did not wait for a run thread
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(held).isNotEmpty();
        holdRunTasks = false;
        held.forEach(this::runHeld);
        RunOutcome outcome = chat.awaitEnd(run.id());
        assertThat(outcome.responseText()).isEqualTo("Half");
        Events.assertWellFormed(chat.events(run.id()));
    }

    private void runHeld(Runnable task) {
        pool.execute(task);
    }

    @Test
    void should_fail_with_model_timeout_when_an_asynchronous_model_does_not_answer_in_time() throws Exception {
        // given
        chat = harness(b -> b.modelTimeout(Duration.ofMillis(200)));
        ChatThread thread = chat.newThread(ALICE);
        Run run = chat.send(thread.id(), "hello").run();
        Call call = model.next();
        call.listener().onToken("Half");

        // when the model never answers (it stops on its cancel)
        RunOutcome outcome = chat.awaitEnd(run.id());

        // then
        assertThat(call.cancellation().isCancelled()).isTrue();
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_timeout");
        assertThat(outcome.responseText()).isEqualTo("Half");
        Events.assertWellFormed(chat.events(run.id()));
    }

    @Test
    void should_fail_with_the_model_s_code_when_its_answer_fails() throws Exception {
        // given
        chat = harness(b -> b);
        ChatThread thread = chat.newThread(ALICE);
        Run run = chat.send(thread.id(), "hello").run();

        // when
        model.next().answer().completeExceptionally(new ModelException("rate_limited", "Too many requests"));

        // then
        RunOutcome outcome = chat.awaitEnd(run.id());
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("rate_limited");
        List<RunEvent> events = chat.events(run.id());
        Events.assertWellFormed(events);
        assertThat(((RunEvent.Error) Events.last(events)).code()).isEqualTo("rate_limited");
    }

    @Test
    void should_answer_a_caller_that_waits_for_the_run_with_an_asynchronous_model() throws Exception {
        // given
        chat = harness(b -> b);
        ChatThread thread = chat.newThread(ALICE);
        Future<AwaitedSend> awaited = pool.submit(
                () -> chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "Hi"), WAIT));

        // when
        model.next().answer("Hello there");

        // then
        AwaitedSend answered = awaited.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(answered.outcome().run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(answered.outcome().responseText()).isEqualTo("Hello there");
    }

    @Test
    void should_complete_without_waiting_when_the_model_answers_at_once() {
        // given a model whose stage is complete when returned
        AsyncChatModel atOnce = (request, listener, cancellation) -> {
            listener.onToken("Now");
            return CompletableFuture.completedFuture(ModelResponse.text("Now", null));
        };
        chat = ChatHarness.custom(InMemoryAdapters.store(), atOnce, List.of(ChatHarness.agent(null)), b -> b);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "hello").run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Now");
        Events.assertWellFormed(chat.events(outcome.run().id()));
    }
}
