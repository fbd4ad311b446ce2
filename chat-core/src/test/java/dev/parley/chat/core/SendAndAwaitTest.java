package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.AwaitedSend;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.TraceSpan;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A send whose caller waits for its run: the run executes on the caller's thread, with every guarantee of a run thread. */
class SendAndAwaitTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    @Test
    void should_answer_on_the_callers_own_thread_with_the_events_and_outcome_of_a_run_thread() throws Exception {
        // given a model that notes the thread it is called on
        List<Thread> calledOn = new CopyOnWriteArrayList<>();
        ScriptedChatModel model = ScriptedChatModel.builder().turn(request -> {
            calledOn.add(Thread.currentThread());
            return Script.tokens("Hello", " there");
        }).build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);

        // when
        AwaitedSend answered = chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "Hi"), WAIT);

        // then the model ran here, and the outcome is the run as stored
        assertThat(calledOn).containsExactly(Thread.currentThread());
        RunOutcome outcome = answered.outcome();
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Hello there");
        assertThat(answered.receipt().run().id()).isEqualTo(outcome.run().id());
        assertThat(outcome).isEqualTo(chat.service.getRun(ALICE, thread.id(), outcome.run().id()));
        assertThat(chat.events(outcome.run().id())).extracting(RunEvent::type)
                .containsExactly("run_started", "token", "token", "done");
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void should_tell_the_receipt_once_stored_before_the_run_executes() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("Hello");
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        List<SendReceipt> told = new CopyOnWriteArrayList<>();
        List<Integer> modelCallsWhenTold = new CopyOnWriteArrayList<>();

        // when
        AwaitedSend answered = chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "Hi"), WAIT, receipt -> {
            told.add(receipt);
            modelCallsWhenTold.add(model.callCount());
        });

        // then the caller heard of the stored run before the model was called, and once
        assertThat(told).containsExactly(answered.receipt());
        assertThat(modelCallsWhenTold).containsExactly(0);
        assertThat(chat.service.getRun(ALICE, thread.id(), told.get(0).run().id()).run().status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void should_still_execute_the_stored_run_when_the_receipt_listener_fails() throws Exception {
        // given
        chat = ChatHarness.of(ScriptedChatModel.replying("Hello"));
        ChatThread thread = chat.newThread(ALICE);
        List<SendReceipt> told = new CopyOnWriteArrayList<>();

        // when the listener throws
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> chat.service.sendAndAwait(
                SendMessageCommand.text(ALICE, thread.id(), "Hi"), WAIT, receipt -> {
                    told.add(receipt);
                    throw new IllegalStateException("listener failed");
                })).hasMessage("listener failed");

        // then the run it started is not left in progress: a run thread executes it
        RunOutcome outcome = chat.service.await(ALICE, told.get(0).run().id(), WAIT);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Hello");
    }

    @Test
    void should_trace_a_run_that_left_the_callers_thread_for_its_tools_as_one_run_span() throws Exception {
        // given a tracer that notes its spans, and a model that asks for a tool, then answers
        List<String> traced = new CopyOnWriteArrayList<>();
        TraceSpan runSpan = new TraceSpan() {
            @Override
            public void end() {
                traced.add("run ended");
            }
        };
        RunTracer tracer = new RunTracer() {
            @Override
            public boolean isEnabled() {
                return true;
            }

            @Override
            public TraceSpan run(Run run, String agentName, RunOrigin origin, boolean continued) {
                traced.add("run");
                return runSpan;
            }

            @Override
            public TraceSpan modelCall(TraceSpan run, ModelRequest request) {
                traced.add(run == runSpan ? "model call in the run" : "model call elsewhere");
                return TraceSpan.NONE;
            }

            @Override
            public TraceSpan toolCall(TraceSpan run, ToolCall call) {
                traced.add(run == runSpan ? "tool call in the run" : "tool call elsewhere");
                return TraceSpan.NONE;
            }
        };
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(new ToolCall("call_1", "weather", "{}")).reply("Sunny").build();
        chat = ChatHarness.custom(InMemoryAdapters.store(), model,
                List.of(ChatHarness.agent(AgentLimits.DEFAULT, TestTool.named("weather", context -> "sunny"))), b -> b.tracer(tracer));
        ChatThread thread = chat.newThread(ALICE);

        // when
        AwaitedSend answered = chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "Weather?"), WAIT);

        // then
        assertThat(answered.outcome().run().status()).isEqualTo(RunStatus.COMPLETED);
        ChatHarness.eventually("the run span ended", () -> traced.contains("run ended"));
        assertThat(traced).containsExactly("run", "model call in the run", "tool call in the run", "model call in the run", "run ended");
    }

    @Test
    void should_run_tools_and_later_turns_on_a_run_thread_while_the_caller_waits_for_the_end() throws Exception {
        // given a model that asks for a tool, then answers
        List<Thread> calledOn = new CopyOnWriteArrayList<>();
        ToolCall call = new ToolCall("call_1", "weather", "{}");
        ScriptedChatModel model = ScriptedChatModel.builder()
                .turn(request -> {
                    calledOn.add(Thread.currentThread());
                    return Script.toolCalls(call);
                })
                .turn(request -> {
                    calledOn.add(Thread.currentThread());
                    return Script.reply("Sunny");
                }).build();
        chat = ChatHarness.of(model, TestTool.named("weather", context -> "sunny"));
        ChatThread thread = chat.newThread(ALICE);

        // when
        AwaitedSend answered = chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "Weather?"), WAIT);

        // then the first turn ran here, the turn after the tool elsewhere, and the caller had the end
        assertThat(answered.outcome().run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(answered.outcome().responseText()).isEqualTo("Sunny");
        assertThat(calledOn).hasSize(2);
        assertThat(calledOn.get(0)).isSameAs(Thread.currentThread());
        assertThat(calledOn.get(1)).isNotSameAs(Thread.currentThread());
        assertThat(chat.events(answered.outcome().run().id())).extracting(RunEvent::type)
                .containsExactly("run_started", "trace_start", "trace_end", "token", "done");
    }

    @Test
    void should_stop_a_run_on_the_callers_thread_at_once_when_it_is_cancelled() throws Exception {
        // given a caller whose run waits in the model on the caller's own thread
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("Once").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        CompletableFuture<AwaitedSend> caller = CompletableFuture.supplyAsync(() -> {
            try {
                AwaitedSend answered = chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "Story?"), WAIT);
                // the cancel's interrupt was meant for the model call: the caller's thread is not left interrupted
                return Thread.currentThread().isInterrupted() ? null : answered;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        chat.service.cancelActiveRun(ALICE, thread.id());

        // then
        AwaitedSend answered = caller.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(answered).isNotNull();
        assertThat(answered.outcome().run().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(answered.outcome().assistantMessage().text()).isEqualTo("Once");
    }

    @Test
    void should_start_the_run_queued_behind_a_run_that_ended_on_a_callers_thread() throws Exception {
        // given a caller whose run waits in the model, and a second message queued behind it meanwhile
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("First").reply("Second").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        CompletableFuture<AwaitedSend> caller = CompletableFuture.supplyAsync(() -> {
            try {
                return chat.service.sendAndAwait(SendMessageCommand.text(ALICE, thread.id(), "One"), WAIT);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        SendReceipt queued = chat.send(thread.id(), "Two", BusyPolicy.ENQUEUE);
        assertThat(queued.run().status()).isEqualTo(RunStatus.QUEUED);

        // when the first run ends
        model.release();

        // then the caller has it, and the queued run starts and ends without anything else asking
        assertThat(caller.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).outcome().run().status()).isEqualTo(RunStatus.COMPLETED);
        RunOutcome second = chat.awaitEnd(queued.run().id());
        assertThat(second.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(second.responseText()).isEqualTo("Second");
    }

    @Test
    void should_wait_as_await_does_for_a_run_queued_behind_another() throws Exception {
        // given a thread whose run waits in the model on a run thread
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("First").reply("Second").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        chat.send(thread.id(), "One");
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        CompletableFuture<AwaitedSend> caller = CompletableFuture.supplyAsync(() -> {
            try {
                return chat.service.sendAndAwait(new SendMessageCommand(ALICE, thread.id(), null,
                        List.of(dev.parley.chat.model.ContentPart.text("Two")), BusyPolicy.ENQUEUE, null, null), WAIT);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        // when the run before it ends
        chat.eventually("the second run is queued", () -> chat.service.listRuns(ALICE, thread.id(), null).items().size() == 2);
        model.release();

        // then
        AwaitedSend answered = caller.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(answered.receipt().run().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(answered.outcome().run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(answered.outcome().responseText()).isEqualTo("Second");
    }

    @Test
    void should_replay_a_repeated_idempotent_send_without_a_second_run() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().reply("Once").reply("Twice").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendMessageCommand command = new SendMessageCommand(ALICE, thread.id(), null, List.of(dev.parley.chat.model.ContentPart.text("Hi")),
                BusyPolicy.REJECT, "key-1", null);
        AwaitedSend first = chat.service.sendAndAwait(command, WAIT);

        // when
        AwaitedSend again = chat.service.sendAndAwait(command, WAIT);

        // then
        assertThat(again.receipt().replayed()).isTrue();
        assertThat(again.outcome().run().id()).isEqualTo(first.outcome().run().id());
        assertThat(again.outcome().responseText()).isEqualTo("Once");
        assertThat(model.callCount()).isEqualTo(1);
    }
}
