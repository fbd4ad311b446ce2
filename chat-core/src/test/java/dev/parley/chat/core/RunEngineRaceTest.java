package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static dev.parley.chat.core.ChatHarness.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.StoreViews.Gate;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.in.RunStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Interleavings of sends, cancels, deletes, dispatches and shutdowns forced with a store view that
 * holds one call on a gate: each pins a promise of the run engine at the exact moment that once broke it.
 */
class RunEngineRaceTest {
    private final ChatStore shared = InMemoryAdapters.store();
    private final List<ChatHarness> servers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    private ChatHarness server(ChatStore store, dev.parley.chat.port.out.ChatModel model,
                               java.util.function.UnaryOperator<ChatServiceBuilder> customize,
                               dev.parley.chat.port.out.Tool... tools) {
        ChatHarness server = ChatHarness.custom(store, model, List.of(ChatHarness.agent(null, tools)), customize);
        servers.add(server);
        return server;
    }

    @Test
    void should_never_call_the_model_or_a_tool_of_a_run_cancelled_between_its_send_commit_and_its_execution()
            throws Exception {
        // given: a send whose transaction committed its started run, held before it hands the run to the executor
        AtomicInteger toolCalls = new AtomicInteger();
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "charge_card", "{}")).reply("charged").build();
        Gate afterCommit = new Gate();
        // no hints and no periodic check: nothing but the cancel itself may stop the run
        ChatHarness server = server(StoreViews.withoutHints(StoreViews.holdingAfterCommit(shared, "sender", afterCommit)), model,
                b -> b.endedElsewhereCheck(Duration.ZERO), TestTool.named("charge_card", ctx -> "ok " + toolCalls.incrementAndGet()));
        ChatThread thread = server.newThread(ALICE);
        CompletableFuture<SendReceipt> send = new CompletableFuture<>();
        new Thread(() -> complete(send, () -> server.send(thread.id(), "charge my card")), "sender").start();
        assertThat(afterCommit.awaitEntered()).isTrue();

        // when: the user presses Stop right then
        CompletableFuture<Run> cancel = new CompletableFuture<>();
        Thread canceller = new Thread(() -> complete(cancel, () -> server.service.cancelActiveRun(ALICE, thread.id())));
        canceller.start();
        eventually("the cancel waits for the run", () -> cancel.isDone() || StoreViews.isWaitingIn(canceller, "stopAndWait")
                || StoreViews.isWaitingIn(canceller, "awaitCancelledElsewhere"));
        afterCommit.release();
        RunId runId = send.get(WAIT.toSeconds(), TimeUnit.SECONDS).run().id();
        Run cancelled = cancel.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        // then: nothing of the run ran after the cancel
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(toolCalls.get()).as("tool calls").isZero();
        assertThat(model.callCount()).as("model calls").isZero();
        List<RunEvent> events = server.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOf(RunEvent.Cancelled.class);
        assertThat(server.history(thread.id())).extracting(Message::role).containsExactly(Role.USER);
    }

    @Test
    void should_cancel_a_run_executing_on_another_server_when_this_servers_dispatch_lost_the_start_race()
            throws Exception {
        // given: a run queued a minute ago that no server started; server A's dispatch is held inside its start
        Gate aStarting = new Gate();
        ChatHarness serverA = server(StoreViews.holdingRunStoreCall(shared, "start", args -> true, aStarting),
                ScriptedChatModel.echo(), b -> b.reaperInterval(Duration.ofMillis(20)).endedElsewhereCheck(Duration.ZERO));
        ChatThread thread = serverA.newThread(ALICE);
        Run queued = queuedLongAgo(serverA, thread);
        assertThat(aStarting.awaitEntered()).as("A's dispatch reached its start").isTrue();
        // server B starts it meanwhile
        ScriptedChatModel modelB = ScriptedChatModel.builder().tokensThenBlock("working").build();
        server(shared, modelB, b -> b.reaperInterval(Duration.ofMillis(20)).endedElsewhereCheck(Duration.ZERO));
        assertThat(modelB.awaitBlocked(WAIT)).as("run executing on B").isTrue();

        // when: a user asks server A to cancel it, while A's execution still waits for its start
        CompletableFuture<Object> cancel = new CompletableFuture<>();
        Thread canceller = new Thread(() -> {
            try {
                cancel.complete(serverA.service.cancelRun(ALICE, thread.id(), queued.id()));
            } catch (Throwable t) {
                cancel.complete(t);
            }
        });
        canceller.start();
        eventually("the cancel waits for A's execution", () -> StoreViews.isWaitingIn(canceller, "stopAndWait"));
        aStarting.release(); // A's start loses: the run is in progress on B

        // then
        Object result = cancel.get(WAIT.toSeconds() * 2, TimeUnit.SECONDS);
        assertThat(result).as("the cancel's answer").isInstanceOf(Run.class);
        assertThat(((Run) result).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(shared.runs().find(queued.id()).orElseThrow().status()).isEqualTo(RunStatus.CANCELLED);
    }

    @Test
    void should_end_the_stream_of_a_run_whose_thread_was_deleted_under_it() throws Exception {
        // given: a run streaming, followed by a subscriber
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("partial").build();
        ChatHarness server = server(shared, model, b -> b);
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "hi").run().id();
        RunStream subscription = server.service.subscribe(ALICE, thread.id(), runId, 0, DisconnectPolicy.CONTINUE);
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when: its rows are removed by someone who did not stop it first (another server's delete, an operator)
        shared.threads().hardDelete(thread.id());
        model.release();

        // then: the subscriber gets a terminal event
        List<RunEvent> seen = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!subscription.isFinished() && System.nanoTime() < deadline) {
            subscription.next(Duration.ofMillis(100)).ifPresent(seen::add);
        }
        subscription.close();
        assertThat(seen).extracting(RunEvent::type).contains("run_started", "token").last().isEqualTo("error");
        assertThat(((RunEvent.Error) seen.get(seen.size() - 1)).code()).isEqualTo("thread_deleted");
    }

    @Test
    void should_make_a_send_wait_for_a_hard_delete_under_way_and_then_answer_thread_not_found() throws Exception {
        // given: a delete that stopped the thread's runs and is now inside its delete
        Gate deleting = new Gate();
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("partial").build();
        ChatHarness server = server(StoreViews.holdingThreadStoreCall(shared, "hardDelete", deleting), model, b -> b);
        ChatThread thread = server.newThread(ALICE);
        CompletableFuture<Void> delete = CompletableFuture.runAsync(() -> server.service.deleteThread(ALICE, thread.id(), true));
        assertThat(deleting.awaitEntered()).isTrue();

        // when: another tab sends on the thread meanwhile
        CompletableFuture<Object> send = new CompletableFuture<>();
        Thread sender = new Thread(() -> {
            try {
                send.complete(server.send(thread.id(), "hi"));
            } catch (Throwable t) {
                send.complete(t);
            }
        });
        sender.start();
        eventually("the send waits for the delete, or has answered", () -> send.isDone() || StoreViews.isWaitingIn(sender, "inTransaction"));
        deleting.release();
        delete.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        // then: no run started on the deleted thread
        assertThat(send.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isInstanceOfSatisfying(NotFoundException.class,
                e -> assertThat(e.code()).isEqualTo("thread_not_found"));
        assertThat(model.callCount()).isZero();
    }

    @Test
    void should_end_as_cancelled_a_run_whose_dispatch_raced_the_services_close() throws Exception {
        // given: a queued run that the service's dispatch is starting, held inside its start
        Gate starting = new Gate();
        ChatHarness server = server(StoreViews.holdingRunStoreCall(shared, "start", args -> true, starting), ScriptedChatModel.echo(),
                b -> b.reaperInterval(Duration.ofMillis(20)).cancelTimeout(Duration.ofMillis(200)));
        ChatThread thread = server.newThread(ALICE);
        Run queued = queuedLongAgo(server, thread);
        assertThat(starting.awaitEntered()).isTrue();

        // when: the service closes, then the start goes through
        server.service.close();
        starting.release();

        // then: the run ends as cancelled, with its stream's end
        eventually("the run is cancelled", () -> shared.runs().find(queued.id()).orElseThrow().status() == RunStatus.CANCELLED);
        List<RunEvent> events = server.events(queued.id());
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOf(RunEvent.Cancelled.class);
    }

    @Test
    void should_leave_the_cancel_event_to_a_live_owner_that_notices_late_so_the_log_has_one_writer() throws Exception {
        // given: a run streaming on server A, which gets no hints and does not look in the store for a while
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("partial ", "text").build();
        ChatHarness serverA = server(StoreViews.withoutHints(shared), modelA, b -> b.endedElsewhereCheck(Duration.ZERO));
        ChatHarness serverB = server(shared, ScriptedChatModel.echo(), b -> b.cancelTimeout(Duration.ofMillis(100)));
        ChatThread thread = serverA.newThread(ALICE);
        RunId runId = serverA.send(thread.id(), "hi").run().id();
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();

        // when: B cancels it, and A notices only once its model answers, long after B's cancel timeout
        Run cancelled = serverB.service.cancelRun(ALICE, thread.id(), runId);
        modelA.release();

        // then: A ended the stream, naming the partial answer it kept
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        List<RunEvent> events = serverB.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOfSatisfying(RunEvent.Cancelled.class, e -> {
            assertThat(e.messageId()).isNotNull();
            Message kept = shared.messages().find(e.messageId()).orElseThrow();
            assertThat(kept.status()).isEqualTo(MessageStatus.INCOMPLETE);
            assertThat(kept.text()).isEqualTo(Events.tokens(events));
        });
    }

    @Test
    void should_end_the_stream_of_a_cancelled_run_whose_server_never_stops_it() throws Exception {
        // given: a run streaming on server A, which will never learn of a cancel (no hints, no checks, and
        // its lease renewals go nowhere, as if it had died with the run)
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("partial").build();
        ChatHarness serverA = server(StoreViews.withoutHints(StoreViews.withoutLeaseRenewals(shared)), modelA,
                b -> b.endedElsewhereCheck(Duration.ZERO).runLease(Duration.ofSeconds(1)).cancelTimeout(Duration.ofMillis(200)));
        ChatHarness serverB = server(shared, ScriptedChatModel.echo(), b -> b.cancelTimeout(Duration.ofMillis(100)));
        ChatThread thread = serverA.newThread(ALICE);
        RunId runId = serverA.send(thread.id(), "hi").run().id();
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();

        // when: B cancels it while A's lease still runs
        Run cancelled = serverB.service.cancelRun(ALICE, thread.id(), runId);

        // then: once the lease has run out with no end from A, B ends the stream for its readers
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        List<RunEvent> events = serverB.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOf(RunEvent.Cancelled.class);
    }

    @Test
    void should_not_begin_a_tool_once_the_run_is_cancelled() throws Exception {
        // given: a run whose model asked for a tool, held while it stores the tool's step
        AtomicInteger toolCalls = new AtomicInteger();
        Gate storingToolStep = new Gate();
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "send_email", "{}")).reply("sent").build();
        ChatHarness server = server(StoreViews.holdingRunStoreCall(shared, "insertStep",
                args -> ((Step) args[0]).type() == StepType.TOOL_CALL, storingToolStep), model, b -> b,
                TestTool.named("send_email", ctx -> "sent " + toolCalls.incrementAndGet()));
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "email them").run().id();
        assertThat(storingToolStep.awaitEntered()).isTrue();

        // when: the user cancels right then
        CompletableFuture<Run> cancel = new CompletableFuture<>();
        Thread canceller = new Thread(() -> complete(cancel, () -> server.service.cancelRun(ALICE, thread.id(), runId)));
        canceller.start();
        eventually("the cancel waits for the run", () -> cancel.isDone() || StoreViews.isWaitingIn(canceller, "stopAndWait"));
        storingToolStep.release();

        // then
        assertThat(cancel.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(toolCalls.get()).as("tool calls").isZero();
        Events.assertWellFormed(server.events(runId));
    }

    private static <T> void complete(CompletableFuture<T> future, Supplier<T> work) {
        try {
            future.complete(work.get());
        } catch (Throwable t) {
            future.completeExceptionally(t);
        }
    }

    /** A run queued a minute ago by a server that stopped before starting it: every reaper dispatches it. */
    private static Run queuedLongAgo(ChatHarness server, ChatThread thread) {
        ChatStore store = server.store;
        Instant then = server.clock.instant().minusSeconds(60);
        IdGenerator ids = IdGenerator.timeOrdered();
        Message user = store.messages().append(new Message(MessageId.next(ids), thread.id(), null, 0, Role.USER,
                List.of(ContentPart.text("hello")), MessageStatus.COMPLETED, List.of(), null, null, then));
        Run queued = Run.queued(RunId.next(ids), thread.id(), ChatHarness.AGENT, "m", user.id(), then);
        store.runs().insert(queued);
        return queued;
    }
}
