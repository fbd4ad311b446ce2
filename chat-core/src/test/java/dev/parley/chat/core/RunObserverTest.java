package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.AGENT;
import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.RunObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RunObserverTest {
    private final Recorder observer = new Recorder();
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    private ChatHarness start(ScriptedChatModel model, RunObserver runObserver) {
        chat = ChatHarness.custom(InMemoryAdapters.store(), model,
                List.of(ChatHarness.agent(AgentLimits.DEFAULT, TestTool.named("weather", ctx -> "sunny"))),
                b -> b.observer(runObserver));
        return chat;
    }

    @Test
    void should_report_start_first_token_tool_calls_and_a_completed_end_with_usage() {
        // given
        start(ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "weather", "{}")).usage(10, 2)
                .replyTokens("Sun", "ny").usage(20, 3)
                .build(), observer);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "Weather?").run().id());
        ChatHarness.eventually("the observer heard the end", () -> observer.calls.stream().anyMatch(c -> c.startsWith("ended")));

        // then
        RunId run = outcome.run().id();
        assertThat(observer.calls).containsExactly(
                "started " + run + " " + AGENT,
                "tool " + run + " " + AGENT + " weather completed",
                "first_token " + run + " " + AGENT,
                "ended " + run + " " + AGENT + " completed null " + outcome.run().usage());
        assertThat(outcome.run().usage()).isEqualTo(Usage.reported(30, 5));
        assertThat(observer.durations).allSatisfy(d -> assertThat(d.isNegative()).isFalse());
    }

    @Test
    void should_report_a_failed_run_with_its_error_code() {
        // given
        start(ScriptedChatModel.builder().fail("model_error", "upstream broke").build(), observer);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "hi").run().id());
        ChatHarness.eventually("the observer heard the end", () -> observer.calls.size() == 2);

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(observer.calls.get(1)).isEqualTo("ended " + outcome.run().id() + " " + AGENT + " failed model_error " + Usage.ZERO);
    }

    @Test
    void should_report_cancelled_runs_including_queued_ones_that_never_started() throws Exception {
        // given a running run and one queued behind it
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("part").build();
        start(model, observer);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "q1");
        assertThat(model.awaitBlocked(ChatHarness.WAIT)).isTrue();
        SendReceipt queued = chat.send(thread.id(), "q2", BusyPolicy.ENQUEUE);

        // when
        chat.service.cancelRun(ALICE, thread.id(), queued.run().id());
        chat.service.cancelRun(ALICE, thread.id(), first.run().id());
        ChatHarness.eventually("the observer heard both ends", () -> observer.calls.stream().filter(c -> c.startsWith("ended")).count() == 2);

        // then
        assertThat(observer.calls).contains(
                "ended " + queued.run().id() + " null cancelled null " + Usage.ZERO,
                "ended " + first.run().id() + " " + AGENT + " cancelled null " + Usage.ZERO);
    }

    @Test
    void should_keep_running_when_the_observer_throws() {
        // given
        RunObserver broken = new RunObserver() {
            @Override
            public void runStarted(RunId runId, String agentId) {
                throw new IllegalStateException("observer bug");
            }

            @Override
            public void runEnded(RunId runId, String agentId, RunStatus status, String errorCode, Duration duration, Usage usage) {
                throw new IllegalStateException("observer bug");
            }
        };
        start(ScriptedChatModel.echo(), broken);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "still fine").run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("still fine");
    }

    /** Records each callback as one line. */
    private static final class Recorder implements RunObserver {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<Duration> durations = new CopyOnWriteArrayList<>();

        @Override
        public void runStarted(RunId runId, String agentId) {
            calls.add("started " + runId + " " + agentId);
        }

        @Override
        public void firstToken(RunId runId, String agentId, Duration sinceStart) {
            durations.add(sinceStart);
            calls.add("first_token " + runId + " " + agentId);
        }

        @Override
        public void toolCallEnded(RunId runId, String agentId, String toolName, StepStatus status, Duration latency) {
            durations.add(latency);
            calls.add("tool " + runId + " " + agentId + " " + toolName + " " + status.wireName());
        }

        @Override
        public void runEnded(RunId runId, String agentId, RunStatus status, String errorCode, Duration duration, Usage usage) {
            durations.add(duration);
            calls.add("ended " + runId + " " + agentId + " " + status.wireName() + " " + errorCode + " " + usage);
        }
    }
}
