package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.in.RunStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CancelTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    @Test
    void should_keep_partial_text_as_incomplete_when_cancelled_mid_stream() throws Exception {
        // given a model that streams two tokens and then waits
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("Once upon", " a time").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "Tell me a story");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        Run cancelled = chat.service.cancelActiveRun(ALICE, thread.id());

        // then
        assertThat(cancelled.id()).isEqualTo(sent.run().id());
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(cancelled.completedAt()).isNotNull();
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("Tell me a story", "Once upon a time");
        Message partial = history.get(1);
        assertThat(partial.status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(cancelled.assistantMessageId()).isEqualTo(partial.id());

        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "token", "cancelled");
        assertThat(((RunEvent.Cancelled) Events.last(events)).messageId()).isEqualTo(partial.id());
        assertThat(Events.tokens(events)).isEqualTo(partial.text());
        RunOutcome outcome = chat.service.getRun(ALICE, thread.id(), sent.run().id());
        assertThat(outcome.steps()).singleElement().satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.CANCELLED));
        assertThat(outcome.run().usage().estimated()).isTrue();
        Events.assertUsageAddsUp(outcome);
    }

    @Test
    void should_store_no_assistant_message_when_cancelled_before_any_text() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock().build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "Hi");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        Run cancelled = chat.service.cancelRun(ALICE, thread.id(), sent.run().id());

        // then
        assertThat(cancelled.assistantMessageId()).isNull();
        assertThat(chat.history(thread.id())).extracting(Message::role).containsExactly(Role.USER);
        assertThat(Events.last(chat.events(sent.run().id())))
                .isInstanceOfSatisfying(RunEvent.Cancelled.class, c -> assertThat(c.messageId()).isNull());
    }

    @Test
    void should_cancel_a_queued_run_before_it_starts() throws Exception {
        // given a busy thread with a second run waiting
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("first").reply("never").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "one");
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        SendReceipt queued = chat.send(thread.id(), "two", BusyPolicy.ENQUEUE);

        // when
        Run cancelled = chat.service.cancelRun(ALICE, thread.id(), queued.run().id());
        model.release();

        // then
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(cancelled.startedAt()).isNull();
        List<RunEvent> events = chat.events(queued.run().id());
        Events.assertWellFormed(events);
        assertThat(events).singleElement().isInstanceOfSatisfying(RunEvent.Cancelled.class,
                c -> assertThat(c.messageId()).isNull());
        assertThat(chat.awaitEnd(first.run().id()).run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(model.callCount()).isEqualTo(1);
    }

    @Test
    void should_cancel_the_in_progress_run_before_queued_ones_when_cancelling_by_thread() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("first").reply("second").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "one");
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        SendReceipt queued = chat.send(thread.id(), "two", BusyPolicy.ENQUEUE);

        // when
        Run cancelled = chat.service.cancelActiveRun(ALICE, thread.id());

        // then the queued run starts once the first has ended
        assertThat(cancelled.id()).isEqualTo(first.run().id());
        assertThat(chat.awaitEnd(queued.run().id()).responseText()).isEqualTo("second");
    }

    @Test
    void should_cancel_the_tool_and_end_its_step_when_cancelled_mid_tool() throws Exception {
        // given a tool that runs until it is cancelled
        CountDownLatch toolStarted = new CountDownLatch(1);
        CountDownLatch toolCancelled = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        ToolCall slow = new ToolCall("call_1", "slow", "{}");
        ToolCall other = new ToolCall("call_2", "slow", "{}");
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(slow, other).reply("never").build();
        chat = ChatHarness.of(model, TestTool.named("slow", ctx -> {
            ctx.cancellation().onCancel(toolCancelled::countDown);
            toolStarted.countDown();
            never.await(30, TimeUnit.SECONDS);
            return "finished";
        }));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "do the slow thing");
        assertThat(toolStarted.await(10, TimeUnit.SECONDS)).isTrue();

        // when
        Run cancelled = chat.service.cancelRun(ALICE, thread.id(), sent.run().id());

        // then
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(toolCancelled.await(10, TimeUnit.SECONDS)).isTrue();
        RunOutcome outcome = chat.service.getRun(ALICE, thread.id(), sent.run().id());
        Step toolStep = outcome.steps().stream().filter(s -> s.type() == StepType.TOOL_CALL).findFirst().orElseThrow();
        assertThat(toolStep.status()).isEqualTo(StepStatus.CANCELLED);
        assertThat(toolStep.completedAt()).isNotNull();
        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "trace_start", "trace_end", "cancelled");
        RunEvent.TraceEnd end = (RunEvent.TraceEnd) events.get(2);
        assertThat(end.status()).isEqualTo(StepStatus.CANCELLED);
        // every call keeps a result, so the history stays valid for the next model call
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL);
        assertThat(history.subList(2, 4)).extracting(Message::toolCallId).containsExactly("call_1", "call_2");
        assertThat(history.subList(2, 4)).extracting(Message::text).containsOnly("error: cancelled");
        assertThat(model.callCount()).isEqualTo(1);
    }

    @Test
    void should_answer_no_active_run_and_keep_the_status_when_cancelling_an_ended_run() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.replying("done"));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        chat.awaitEnd(sent.run().id());

        // when / then
        assertThatThrownBy(() -> chat.service.cancelRun(ALICE, thread.id(), sent.run().id()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.NO_ACTIVE_RUN));
        assertThatThrownBy(() -> chat.service.cancelActiveRun(ALICE, thread.id()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.NO_ACTIVE_RUN));
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.COMPLETED);
        Events.assertWellFormed(chat.events(sent.run().id()));
    }

    @Test
    void should_interrupt_a_model_call_that_only_reacts_to_thread_interrupts() throws Exception {
        // given a model that ignores the cancellation signal but honours interrupts
        CountDownLatch calling = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        ChatModel model = (request, listener, cancellation) -> {
            listener.onToken("Thinking about it");
            calling.countDown();
            try {
                new CountDownLatch(1).await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted.countDown();
                throw new RunCancelledException();
            }
            return ModelResponse.text("Thinking about it", null);
        };
        chat = ChatHarness.custom(dev.parley.adapter.inmemory.InMemoryAdapters.store(), model,
                List.of(ChatHarness.agent(null)), b -> b.cancelTimeout(Duration.ofSeconds(30)));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hmm");
        assertThat(calling.await(10, TimeUnit.SECONDS)).isTrue();

        // when
        Run cancelled = chat.service.cancelActiveRun(ALICE, thread.id());

        // then the run's thread is interrupted (it wakes on its own time; the cancel does not wait for it)
        assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(chat.history(thread.id())).extracting(Message::text).containsExactly("hmm", "Thinking about it");
    }

    @Test
    void should_end_the_run_anyway_when_the_model_ignores_the_cancel() throws Exception {
        // given a model that cannot be stopped until the test lets it go
        StubbornModel model = new StubbornModel();
        chat = ChatHarness.custom(dev.parley.adapter.inmemory.InMemoryAdapters.store(), model,
                List.of(ChatHarness.agent(null)), b -> b.cancelTimeout(Duration.ofMillis(100)));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "stuck");
        assertThat(model.calling.await(10, TimeUnit.SECONDS)).isTrue();

        // when
        Run cancelled = chat.service.cancelActiveRun(ALICE, thread.id());
        model.letGo.countDown();
        assertThat(model.returned.await(10, TimeUnit.SECONDS)).isTrue();
        SendReceipt after = chat.send(thread.id(), "again");

        // then
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(chat.awaitEnd(after.run().id()).responseText()).isEqualTo("next answer");
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "cancelled");
        assertThat(chat.history(thread.id())).extracting(Message::text)
                .containsExactly("stuck", "partial", "again", "next answer");
    }

    @Test
    void should_end_the_run_after_the_cancel_timeout_when_its_thread_is_held_outside_a_model_call() throws Exception {
        // given a run whose thread is held in the read of its history window (a store that stopped answering),
        // which no cancel signal reaches
        StoreViews.Gate windowRead = new StoreViews.Gate();
        ScriptedChatModel model = ScriptedChatModel.replying("never asked");
        chat = ChatHarness.custom(StoreViews.holdingMessageStoreCall(dev.parley.adapter.inmemory.InMemoryAdapters.store(), "latest",
                Thread.currentThread(), windowRead), model, List.of(ChatHarness.agent(null)), b -> b.cancelTimeout(Duration.ofMillis(200)));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "held");
        assertThat(windowRead.awaitEntered()).isTrue();

        // when
        Run cancelled;
        try {
            cancelled = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> chat.service.cancelActiveRun(ALICE, thread.id()));
        } finally {
            windowRead.release();
        }
        SendReceipt after = chat.send(thread.id(), "again");

        // then the cancel ended the run without its thread, and that thread, let go, neither asked the model nor added anything
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(chat.awaitEnd(after.run().id()).responseText()).isEqualTo("never asked");
        assertThat(model.callCount()).isEqualTo(1);
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "cancelled");
        assertThat(chat.history(thread.id())).extracting(Message::text).containsExactly("held", "again", "never asked");
    }

    @Test
    void should_end_a_run_waiting_in_its_model_call_on_the_cancelling_thread_without_waiting_for_the_model() throws Exception {
        // given a model that cannot be stopped until the test lets it go, a cancel timeout far longer than
        // the test may take, and a second run queued behind the first
        StubbornModel model = new StubbornModel();
        chat = ChatHarness.custom(dev.parley.adapter.inmemory.InMemoryAdapters.store(), model,
                List.of(ChatHarness.agent(null)), b -> b.cancelTimeout(Duration.ofMinutes(10)));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "stuck");
        assertThat(model.calling.await(10, TimeUnit.SECONDS)).isTrue();
        SendReceipt queued = chat.send(thread.id(), "again", BusyPolicy.ENQUEUE);

        // when
        Run cancelled = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> chat.service.cancelActiveRun(ALICE, thread.id()));

        // then the run ended while its model still held its thread, and the queued run went on
        assertThat(model.returned.getCount()).isEqualTo(1);
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(chat.awaitEnd(queued.run().id()).responseText()).isEqualTo("next answer");
        // (the queued question was stored when it was sent, before the cancel stored the partial answer)
        assertThat(chat.history(thread.id())).extracting(Message::text)
                .containsExactly("stuck", "again", "partial", "next answer");
        Message partial = chat.history(thread.id()).get(2);
        assertThat(partial.status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(cancelled.assistantMessageId()).isEqualTo(partial.id());
        // and the model's thread, once it returns, adds nothing to the ended run
        model.letGo.countDown();
        assertThat(model.returned.await(10, TimeUnit.SECONDS)).isTrue();
        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "cancelled");
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(chat.service.getRun(ALICE, thread.id(), sent.run().id()).steps())
                .singleElement().satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.CANCELLED));
    }

    @Test
    void should_cancel_the_run_when_a_cancel_on_disconnect_subscriber_leaves_early() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("partial").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        RunStream subscription = chat.service.subscribe(ALICE, thread.id(), sent.run().id(), 0, DisconnectPolicy.CANCEL);
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        subscription.close();

        // then
        assertThat(chat.awaitEnd(sent.run().id()).run().status()).isEqualTo(RunStatus.CANCELLED);
    }

    @Test
    void should_let_the_run_go_on_when_a_continue_subscriber_leaves() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("all", " good").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        RunStream subscription = chat.service.subscribe(ALICE, thread.id(), sent.run().id(), 0, DisconnectPolicy.CONTINUE);
        assertThat(subscription.next(WAIT)).get().isInstanceOf(RunEvent.RunStarted.class);
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        subscription.close();
        model.release();

        // then
        RunOutcome outcome = chat.awaitEnd(sent.run().id());
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("all good");
    }

    @Test
    void should_cancel_running_runs_and_refuse_new_sends_when_closed() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("partial").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt sent = chat.send(thread.id(), "hi");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        chat.service.close();

        // then
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(Events.last(chat.events(sent.run().id()))).isInstanceOf(RunEvent.Cancelled.class);
        assertThatThrownBy(() -> chat.send(thread.id(), "more")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void should_end_every_run_exactly_once_when_cancel_races_completion() throws Exception {
        // given a fast model
        chat = ChatHarness.of(ScriptedChatModel.echo());
        ChatThread thread = chat.newThread(ALICE);
        for (int i = 0; i < 25; i++) {
            SendReceipt sent = chat.send(thread.id(), "message " + i);

            // when
            Run cancelled = null;
            try {
                cancelled = chat.service.cancelRun(ALICE, thread.id(), sent.run().id());
            } catch (ConflictException e) {
                assertThat(e.reason()).isEqualTo(ConflictException.Reason.NO_ACTIVE_RUN);
            }

            // then
            RunOutcome outcome = chat.awaitEnd(sent.run().id());
            List<RunEvent> events = chat.events(sent.run().id());
            Events.assertWellFormed(events);
            if (cancelled != null) {
                assertThat(outcome.run().status()).isEqualTo(RunStatus.CANCELLED);
                assertThat(Events.last(events)).isInstanceOf(RunEvent.Cancelled.class);
            } else {
                assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
                assertThat(Events.last(events)).isInstanceOf(RunEvent.Done.class);
            }
        }
    }

    /**
     * A model whose call for the message {@code stuck} streams {@code partial} and then cannot be stopped until the
     * test lets it go; any other message it answers with {@code next answer}.
     */
    private static final class StubbornModel implements ChatModel {
        final CountDownLatch calling = new CountDownLatch(1);
        final CountDownLatch letGo = new CountDownLatch(1);
        final CountDownLatch returned = new CountDownLatch(1);
        private final ScriptedChatModel next = ScriptedChatModel.replying("next answer");

        @Override
        public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
            if (!request.messages().get(request.messages().size() - 1).text().equals("stuck")) {
                return next.complete(request, listener, cancellation);
            }
            listener.onToken("partial");
            calling.countDown();
            awaitUninterruptibly(letGo);
            listener.onToken(" more");
            returned.countDown();
            return ModelResponse.text("partial more", null);
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                if (latch.await(30, TimeUnit.SECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
