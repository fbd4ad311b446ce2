package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.AgentLimits;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ToolLoopTest {
    private static final ToolCall WEATHER_CALL = new ToolCall("call_1", "weather", "{\"city\":\"Oslo\"}");
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    private RunOutcome run(String text) {
        ChatThread thread = chat.newThread(ALICE);
        return chat.awaitEnd(chat.send(thread.id(), text).run().id());
    }

    @Test
    void should_run_the_tool_and_feed_its_output_back_to_the_model() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("It is sunny in Oslo").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> "sunny, " + ctx.arguments()));

        // when
        RunOutcome outcome = run("Weather in Oslo?");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("It is sunny in Oslo");
        List<Message> secondRequest = model.requests().get(1).messages();
        Message toolResult = secondRequest.get(secondRequest.size() - 1);
        assertThat(toolResult.role()).isEqualTo(Role.TOOL);
        assertThat(toolResult.toolCallId()).isEqualTo("call_1");
        assertThat(toolResult.text()).isEqualTo("sunny, {\"city\":\"Oslo\"}");
    }

    @Test
    void should_answer_an_await_with_exactly_what_the_store_holds_of_the_completed_run() {
        // given a run with a tool round, on a clock that reads nanoseconds
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("It is sunny in Oslo").build();
        java.time.Clock nanos = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.now().plusNanos(123);
            }
        };
        chat = ChatHarness.custom(dev.parley.adapter.inmemory.InMemoryAdapters.store(), model,
                List.of(ChatHarness.agent(AgentLimits.DEFAULT, TestTool.named("weather", ctx -> "sunny"))), b -> b.clock(nanos));

        // when
        RunOutcome awaited = run("Weather in Oslo?");

        // then: the run, its answer and its steps as a later read gives them
        RunOutcome read = chat.service.getRun(ALICE, awaited.run().threadId(), awaited.run().id());
        assertThat(awaited).isEqualTo(read);
        assertThat(awaited.steps()).extracting(Step::type).containsExactly(StepType.MESSAGE_CREATION, StepType.TOOL_CALL,
                StepType.MESSAGE_CREATION);
        assertThat(awaited.run().completedAt().getNano() % 1_000).isZero();
    }

    @Test
    void should_store_the_tool_call_message_then_one_linked_tool_message_per_call_then_the_answer() {
        // given
        ToolCall second = new ToolCall("call_2", "weather", "{\"city\":\"Rome\"}");
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL, second).reply("Both sunny").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> "sunny"));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        List<Message> history = chat.history(outcome.run().threadId());
        assertThat(history).extracting(Message::role)
                .containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL, Role.ASSISTANT);
        assertThat(history.get(1).toolCalls()).containsExactly(WEATHER_CALL, second);
        assertThat(history.get(2).toolCallId()).isEqualTo("call_1");
        assertThat(history.get(3).toolCallId()).isEqualTo("call_2");
        assertThat(history.subList(1, 5)).allSatisfy(m -> assertThat(m.runId()).isEqualTo(outcome.run().id()));
        assertThat(history.get(4).id()).isEqualTo(outcome.assistantMessage().id());
    }

    @Test
    void should_record_tool_steps_with_latency_and_trace_events() {
        // given a tool that takes 250 ms of clock time
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("ok").build();
        TestClock[] clock = new TestClock[1];
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> {
            clock[0].advance(Duration.ofMillis(250));
            return "sunny";
        }));
        clock[0] = chat.clock;

        // when
        RunOutcome outcome = run("Weather?");

        // then
        assertThat(outcome.steps()).extracting(Step::type)
                .containsExactly(StepType.MESSAGE_CREATION, StepType.TOOL_CALL, StepType.MESSAGE_CREATION);
        Step toolStep = outcome.steps().get(1);
        assertThat(toolStep.status()).isEqualTo(StepStatus.COMPLETED);
        assertThat(toolStep.toolCall()).isEqualTo(WEATHER_CALL);
        assertThat(toolStep.output()).isEqualTo("sunny");
        assertThat(toolStep.latencyMs()).isEqualTo(250);

        List<RunEvent> events = chat.events(outcome.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "trace_start", "trace_end", "token", "done");
        RunEvent.TraceStart start = (RunEvent.TraceStart) events.get(1);
        RunEvent.TraceEnd end = (RunEvent.TraceEnd) events.get(2);
        assertThat(start.stepId()).isEqualTo(toolStep.id()).isEqualTo(end.stepId());
        assertThat(start.toolCall()).isEqualTo(WEATHER_CALL);
        assertThat(end.status()).isEqualTo(StepStatus.COMPLETED);
        assertThat(end.output()).isEqualTo("sunny");
        assertThat(end.error()).isNull();
        assertThat(end.latencyMs()).isEqualTo(250);
    }

    @Test
    void should_publish_tool_progress_as_trace_updates() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("ok").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> {
            ctx.progress().accept("looking up Oslo");
            ctx.progress().accept("found it");
            return "sunny";
        }));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        List<RunEvent> events = chat.events(outcome.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.ofType(events, RunEvent.TraceUpdate.class)).extracting(RunEvent.TraceUpdate::content)
                .containsExactly("looking up Oslo", "found it");
        assertThat(Events.types(events)).containsSubsequence("trace_start", "trace_update", "trace_update", "trace_end");
    }

    @Test
    void should_feed_a_tool_exception_message_back_verbatim_and_fail_the_step() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("Sorry").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> {
            throw new ToolException("unknown city: Oslo");
        }));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        Step toolStep = outcome.steps().get(1);
        assertThat(toolStep.status()).isEqualTo(StepStatus.FAILED);
        assertThat(toolStep.error()).isEqualTo("unknown city: Oslo");
        List<Message> sent = model.requests().get(1).messages();
        assertThat(sent.get(sent.size() - 1).text()).isEqualTo("error: unknown city: Oslo");
        RunEvent.TraceEnd end = Events.ofType(chat.events(outcome.run().id()), RunEvent.TraceEnd.class).get(0);
        assertThat(end.status()).isEqualTo(StepStatus.FAILED);
        assertThat(end.error()).isEqualTo("unknown city: Oslo");
    }

    @Test
    void should_hide_unexpected_tool_exceptions_behind_a_generic_error() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("Sorry").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> {
            throw new IllegalStateException("jdbc:postgresql://db.internal password=hunter2");
        }));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        Step toolStep = outcome.steps().get(1);
        assertThat(toolStep.error()).isEqualTo("the tool failed");
        List<Message> sent = model.requests().get(1).messages();
        assertThat(sent.get(sent.size() - 1).text()).isEqualTo("error: the tool failed").doesNotContain("Exception");
    }

    @Test
    void should_record_a_timeout_cancel_the_tool_and_go_on_when_a_tool_runs_too_long() throws Exception {
        // given a tool that only stops when told to
        CountDownLatch toolCancelled = new CountDownLatch(1);
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("It timed out").build();
        CountDownLatch never = new CountDownLatch(1);
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> {
            ctx.cancellation().onCancel(toolCancelled::countDown);
            never.await(30, TimeUnit.SECONDS);
            return "too late";
        }).withTimeout(Duration.ofMillis(50)));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(toolCancelled.await(10, TimeUnit.SECONDS)).isTrue();
        Step toolStep = outcome.steps().get(1);
        assertThat(toolStep.status()).isEqualTo(StepStatus.FAILED);
        assertThat(toolStep.error()).startsWith("tool_timeout");
        List<Message> sent = model.requests().get(1).messages();
        assertThat(sent.get(sent.size() - 1).text()).startsWith("error: tool_timeout");
    }

    @Test
    void should_tell_the_model_when_it_calls_a_tool_that_does_not_exist() {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_9", "teleport", "{}")).reply("I cannot teleport").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> "sunny"));

        // when
        RunOutcome outcome = run("Beam me up");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        Step toolStep = outcome.steps().get(1);
        assertThat(toolStep.status()).isEqualTo(StepStatus.FAILED);
        assertThat(toolStep.error()).startsWith("tool_not_found");
        List<Message> sent = model.requests().get(1).messages();
        assertThat(sent.get(sent.size() - 1).toolCallId()).isEqualTo("call_9");
        assertThat(sent.get(sent.size() - 1).text()).contains("teleport");
    }

    @Test
    void should_fail_with_tool_rounds_exceeded_when_the_model_keeps_calling_tools() {
        // given an agent allowed two rounds and a model that always wants a tool
        ScriptedChatModel model = ScriptedChatModel.builder()
                .respondWith(request -> ScriptedChatModel.Script.reply("again").thenCallTools(WEATHER_CALL)).build();
        chat = ChatHarness.of(model, new AgentLimits(2, 50, 0), TestTool.named("weather", ctx -> "sunny"));

        // when
        RunOutcome outcome = run("loop");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("tool_rounds_exceeded");
        assertThat(model.callCount()).isEqualTo(3);
        Events.assertUsageAddsUp(outcome);
        assertThat(outcome.steps()).filteredOn(s -> s.type() == StepType.TOOL_CALL).hasSize(2);
        List<RunEvent> events = chat.events(outcome.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOfSatisfying(RunEvent.Error.class,
                e -> assertThat(e.code()).isEqualTo("tool_rounds_exceeded"));
        List<Message> history = chat.history(outcome.run().threadId());
        assertThat(history).filteredOn(m -> m.role() == Role.ASSISTANT && !m.toolCalls().isEmpty()).hasSize(2);
        assertThat(history.get(history.size() - 1).text()).isEqualTo("again");
        assertThat(history.get(history.size() - 1).toolCalls()).isEmpty();
    }

    @Test
    void should_keep_each_turns_tokens_on_that_turns_message() {
        // given a model that talks before calling a tool
        ScriptedChatModel model = ScriptedChatModel.builder()
                .replyThenCallTools("Let me check. ", WEATHER_CALL).reply("Sunny.").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> "sunny"));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        List<RunEvent> events = chat.events(outcome.run().id());
        List<Message> assistantMessages = chat.history(outcome.run().threadId()).stream()
                .filter(m -> m.role() == Role.ASSISTANT).toList();
        assertThat(assistantMessages).extracting(Message::text).containsExactly("Let me check. ", "Sunny.");
        assertThat(Events.tokens(events)).isEqualTo("Let me check. Sunny.");
        RunEvent.Done done = (RunEvent.Done) Events.last(events);
        assertThat(done.messageId()).isEqualTo(assistantMessages.get(1).id());
    }

    @Test
    void should_give_the_tool_its_arguments_and_the_run_it_belongs_to() {
        // given
        var seen = new java.util.concurrent.atomic.AtomicReference<dev.parley.chat.port.out.ToolContext>();
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(WEATHER_CALL).reply("ok").build();
        chat = ChatHarness.of(model, TestTool.named("weather", ctx -> {
            seen.set(ctx);
            return "sunny";
        }));

        // when
        RunOutcome outcome = run("Weather?");

        // then
        assertThat(seen.get().arguments()).isEqualTo("{\"city\":\"Oslo\"}");
        assertThat(seen.get().toolCallId()).isEqualTo("call_1");
        assertThat(seen.get().runId()).isEqualTo(outcome.run().id());
        assertThat(seen.get().threadId()).isEqualTo(outcome.run().threadId());
        assertThat(seen.get().userId()).isEqualTo(ALICE);
    }
}
