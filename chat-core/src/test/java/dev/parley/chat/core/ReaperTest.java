package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The reaper of a server ends the runs of servers that stopped renewing their lease. The stopped
 * server's run is written to the shared store as that server left it (a lease, events, messages).
 */
class ReaperTest {
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final String DEAD_SERVER = "server-that-stopped";
    private static final IdGenerator IDS = IdGenerator.timeOrdered();

    private final ChatStore store = InMemoryAdapters.store();
    private final TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
    private final List<ChatHarness> servers = new ArrayList<>();
    private long seq;

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    /** A live server sharing the store and the clock, its reaper passing every 20 ms. */
    private ChatHarness liveServer(ScriptedChatModel model, Tool... tools) {
        ChatHarness server = ChatHarness.custom(store, model, List.of(ChatHarness.agent(null, tools)),
                b -> b.clock(clock).instanceId("live-server").runLease(LEASE).reaperInterval(Duration.ofMillis(20)));
        servers.add(server);
        return server;
    }

    @Test
    void should_fail_a_run_whose_lease_expired_as_interrupted_and_keep_its_streamed_text() {
        // given a run that streamed two tokens on a server that then stopped
        ChatThread thread = aThread();
        Run run = aRunStartedByTheDeadServer(thread, "count to 100");
        storeEvents(started(run), token(run, "1 2"), token(run, " 3"));
        clock.advance(LEASE.plusSeconds(1));

        // when a live server's reaper passes
        ChatHarness live = liveServer(ScriptedChatModel.echo());
        eventually("the run is ended", () -> store.runs().find(run.id()).orElseThrow().isTerminal());

        // then
        Run ended = store.runs().find(run.id()).orElseThrow();
        assertThat(ended.status()).isEqualTo(RunStatus.FAILED);
        assertThat(ended.error().code()).isEqualTo("interrupted");
        assertThat(ended.completedAt()).isEqualTo(clock.instant());
        List<Message> history = live.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("count to 100", "1 2 3");
        assertThat(history.get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(history.get(1).runId()).isEqualTo(run.id());
        assertThat(ended.assistantMessageId()).isEqualTo(history.get(1).id());
        assertThat(ended.usage().outputTokens()).isPositive();
        // and every reader sees the stream end
        List<RunEvent> events = live.events(run.id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "token", "error");
        assertThat(((RunEvent.Error) Events.last(events)).code()).isEqualTo("interrupted");
        assertThat(Events.tokens(events)).isEqualTo(history.get(1).text());
    }

    @Test
    void should_answer_tool_calls_left_open_and_end_the_open_tool_step() {
        // given a run that asked for two tools and stopped while the second one ran
        ChatThread thread = aThread();
        Run run = aRunStartedByTheDeadServer(thread, "weather in Lisbon and Porto");
        ToolCall lisbon = new ToolCall("call_1", "weather", "{\"city\":\"Lisbon\"}");
        ToolCall porto = new ToolCall("call_2", "weather", "{\"city\":\"Porto\"}");
        Step turn = Step.messageCreation(StepId.next(ids()), run.id(), 1, clock.instant())
                .completed(clock.instant(), null, Usage.reported(10, 4));
        Step first = Step.toolCall(StepId.next(ids()), run.id(), 2, lisbon, clock.instant()).completed(clock.instant(), "sunny",
                Usage.ZERO);
        Step second = Step.toolCall(StepId.next(ids()), run.id(), 3, porto, clock.instant());
        List.of(turn, first, second).forEach(store.runs()::insertStep);
        append(thread, run, Role.ASSISTANT, "Let me look", List.of(lisbon, porto), null);
        append(thread, run, Role.TOOL, "sunny", List.of(), lisbon.id());
        storeEvents(started(run), token(run, "Let me look"), new RunEvent.TraceStart(run.id(), ++seq, first.id(), lisbon),
                new RunEvent.TraceEnd(run.id(), ++seq, first.id(), StepStatus.COMPLETED, "sunny", null, 5),
                new RunEvent.TraceStart(run.id(), ++seq, second.id(), porto));
        clock.advance(LEASE.plusSeconds(1));

        // when
        ChatHarness live = liveServer(ScriptedChatModel.echo());
        eventually("the run is ended", () -> store.runs().find(run.id()).orElseThrow().isTerminal());

        // then: the history stays well-formed, and no text is invented
        List<Message> history = live.history(thread.id());
        assertThat(history).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL);
        assertThat(history.get(3).toolCallId()).isEqualTo(porto.id());
        assertThat(history.get(3).text()).isEqualTo("error: interrupted");
        Run ended = store.runs().find(run.id()).orElseThrow();
        assertThat(ended.assistantMessageId()).isNull();
        assertThat(ended.usage()).isEqualTo(Usage.reported(10, 4));
        assertThat(store.runs().steps(run.id())).extracting(Step::status)
                .containsExactly(StepStatus.COMPLETED, StepStatus.COMPLETED, StepStatus.FAILED);
    }

    @Test
    void should_keep_only_the_text_of_the_last_turn_as_incomplete() {
        // given a run whose first turn asked for a tool (stored with its text) and whose second turn streamed
        ChatThread thread = aThread();
        Run run = aRunStartedByTheDeadServer(thread, "weather?");
        ToolCall call = new ToolCall("call_1", "weather", "{}");
        StepId toolStep = StepId.next(ids());
        append(thread, run, Role.ASSISTANT, "Checking.", List.of(call), null);
        append(thread, run, Role.TOOL, "sunny", List.of(), call.id());
        storeEvents(started(run), token(run, "Checking."), new RunEvent.TraceStart(run.id(), ++seq, toolStep, call),
                new RunEvent.TraceEnd(run.id(), ++seq, toolStep, StepStatus.COMPLETED, "sunny", null, 5),
                token(run, "It is"), token(run, " sunny"));
        clock.advance(LEASE.plusSeconds(1));

        // when
        ChatHarness live = liveServer(ScriptedChatModel.echo());
        eventually("the run is ended", () -> store.runs().find(run.id()).orElseThrow().isTerminal());

        // then
        List<Message> history = live.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("weather?", "Checking.", "sunny", "It is sunny");
        assertThat(history.get(3).status()).isEqualTo(MessageStatus.INCOMPLETE);
    }

    @Test
    void should_leave_alone_a_run_whose_lease_is_still_valid() {
        // given one run whose lease expired and one whose lease runs on
        ChatThread stoppedThread = aThread();
        Run expired = aRunStartedByTheDeadServer(stoppedThread, "expired");
        ChatThread busyThread = aThread();
        Run valid = aRunStartedBy(busyThread, "valid", "server-still-running", clock.instant().plus(LEASE).plus(LEASE));
        clock.advance(LEASE.plusSeconds(1));

        // when a pass of the reaper ended the expired one
        liveServer(ScriptedChatModel.echo());
        eventually("the expired run is ended", () -> store.runs().find(expired.id()).orElseThrow().isTerminal());

        // then
        assertThat(store.runs().find(valid.id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
    }

    @Test
    void should_end_the_run_as_its_stored_log_ended_when_its_server_got_that_far() {
        // given a run whose server published its failure but could not store its status
        ChatThread thread = aThread();
        Run run = aRunStartedByTheDeadServer(thread, "hello");
        storeEvents(started(run), token(run, "Hel"), new RunEvent.Error(run.id(), ++seq, "unavailable", "The store is unavailable"));
        clock.advance(LEASE.plusSeconds(1));

        // when
        ChatHarness live = liveServer(ScriptedChatModel.echo());
        eventually("the run is ended", () -> store.runs().find(run.id()).orElseThrow().isTerminal());

        // then: no second terminal event, the status agrees with the stream
        Run ended = store.runs().find(run.id()).orElseThrow();
        assertThat(ended.error().code()).isEqualTo("unavailable");
        List<RunEvent> events = live.events(run.id());
        Events.assertWellFormed(events);
        assertThat(events).hasSize(3);
        assertThat(live.history(thread.id())).extracting(Message::text).containsExactly("hello", "Hel");
    }

    @Test
    void should_start_the_next_queued_run_of_the_thread_once_the_expired_one_ended() {
        // given a stopped server's run and a message queued behind it
        ChatThread thread = aThread();
        Run stopped = aRunStartedByTheDeadServer(thread, "first");
        Message second = append(thread, null, Role.USER, "second", List.of(), null);
        Run queued = Run.queued(RunId.next(ids()), thread.id(), ChatHarness.AGENT, null, second.id(), clock.instant());
        store.runs().insert(queued);
        clock.advance(LEASE.plusSeconds(1));

        // when
        ChatHarness live = liveServer(ScriptedChatModel.replying("second answer"));

        // then
        eventually("the queued run completed", () -> store.runs().find(queued.id()).orElseThrow().status() == RunStatus.COMPLETED);
        assertThat(store.runs().find(stopped.id()).orElseThrow().status()).isEqualTo(RunStatus.FAILED);
        assertThat(live.history(thread.id())).extracting(Message::text).containsExactly("first", "second", "second answer");
    }

    @Test
    void should_start_a_queued_run_that_no_server_started() {
        // given a run queued by a server that stopped before it could start it
        ChatThread thread = aThread();
        Message question = append(thread, null, Role.USER, "anyone there?", List.of(), null);
        Run queued = Run.queued(RunId.next(ids()), thread.id(), ChatHarness.AGENT, null, question.id(), clock.instant());
        store.runs().insert(queued);
        clock.advance(Duration.ofSeconds(5));

        // when
        liveServer(ScriptedChatModel.replying("yes"));

        // then
        eventually("the queued run completed", () -> store.runs().find(queued.id()).orElseThrow().status() == RunStatus.COMPLETED);
    }

    // ---- a stopped server's leftovers --------------------------------------------------------

    private ChatThread aThread() {
        ChatThread thread = ChatThread.create(ThreadId.next(ids()), ALICE, ChatHarness.AGENT, null, null,
                clock.instant());
        store.threads().insert(thread);
        return thread;
    }

    private Run aRunStartedByTheDeadServer(ChatThread thread, String question) {
        return aRunStartedBy(thread, question, DEAD_SERVER, clock.instant().plus(LEASE));
    }

    private Run aRunStartedBy(ChatThread thread, String question, String owner, Instant leaseExpiresAt) {
        seq = 0;
        Message asked = append(thread, null, Role.USER, question, List.of(), null);
        Run queued = Run.queued(RunId.next(ids()), thread.id(), ChatHarness.AGENT, null, asked.id(), clock.instant());
        store.runs().insert(queued);
        Run started = queued.started(clock.instant());
        assertThat(store.runs().start(started, owner, leaseExpiresAt)).isTrue();
        return started;
    }

    private Message append(ChatThread thread, Run run, Role role, String text, List<ToolCall> calls, String toolCallId) {
        return store.messages().append(new Message(MessageId.next(ids()), thread.id(), run == null ? null : run.id(), 0, role,
                List.of(ContentPart.text(text)), MessageStatus.COMPLETED, calls, toolCallId, null, clock.instant()));
    }

    private void storeEvents(RunEvent... events) {
        store.events().append(List.of(events));
    }

    private RunEvent started(Run run) {
        return new RunEvent.RunStarted(run.id(), ++seq, run.threadId(), run.userMessageId(), run.agentId());
    }

    private RunEvent token(Run run, String text) {
        return new RunEvent.Token(run.id(), ++seq, text);
    }

    private static IdGenerator ids() {
        return IDS;
    }
}
