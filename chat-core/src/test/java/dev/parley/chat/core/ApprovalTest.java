package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Runs that wait for a person's approval of tool calls: the pause, the decisions, the resume, cancel, timeout, busy rules. */
class ApprovalTest {
    private static final ToolCall REFUND = new ToolCall("call_refund", "refund", "{\"order\":\"A-1\",\"amount\":20}");
    private static final ToolCall EMAIL = new ToolCall("call_email", "send_email", "{\"to\":\"bob@example.com\"}");
    private static final ToolCall LOOKUP = new ToolCall("call_lookup", "lookup", "{\"order\":\"A-1\"}");

    private final ChatStore shared = InMemoryAdapters.store();
    private final List<ChatHarness> servers = new ArrayList<>();
    private final AtomicInteger refunds = new AtomicInteger();
    private final AtomicInteger emails = new AtomicInteger();

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    private Tool[] tools() {
        return new Tool[] {
            TestTool.named("refund", ctx -> "refunded #" + refunds.incrementAndGet()).requiringApproval(),
            TestTool.named("send_email", ctx -> "sent #" + emails.incrementAndGet()).requiringApproval(),
            TestTool.named("lookup", ctx -> "order A-1: 20 EUR")
        };
    }

    private ChatHarness server(ChatModel model) {
        return server(model, AgentLimits.DEFAULT, b -> b);
    }

    private ChatHarness server(ChatModel model, AgentLimits limits, UnaryOperator<ChatServiceBuilder> customize) {
        ChatHarness server = ChatHarness.custom(shared, model, List.of(ChatHarness.agent(limits, tools())), customize);
        servers.add(server);
        return server;
    }

    private static RunOutcome awaitSettled(ChatHarness server, RunId runId) throws InterruptedException {
        return server.service.await(ALICE, runId, WAIT);
    }

    /** Waits until the run ended (awaiting it alone returns as soon as it waits for approval). */
    private static RunOutcome awaitTerminal(ChatHarness server, RunId runId) {
        ChatHarness.eventually("run " + runId + " ended", () -> server.storedRun(runId).isTerminal());
        return server.awaitEnd(runId);
    }

    /** A run waiting for approval of {@link #REFUND} on its server, and a person's approval of it held at its first read of the run. */
    private record HeldDecision(ChatHarness server, RunId runId, StoreViews.Gate gate,
                                java.util.concurrent.CompletableFuture<Object> decided) {
    }

    /** Pauses a run on a server of its own (approval timeout {@code timeout}) and holds a person's approval of its call. */
    private HeldDecision heldApproval(ScriptedChatModel model, Duration timeout) throws InterruptedException {
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
        StoreViews.Gate decisionHeld = new StoreViews.Gate();
        ChatHarness a = ChatHarness.custom(StoreViews.holdingRunStoreCall(shared, "find", args -> armed.get(), decisionHeld), model,
                List.of(ChatHarness.agent(AgentLimits.DEFAULT.withApprovalTimeout(timeout), tools())),
                x -> x.reaperInterval(Duration.ZERO));
        servers.add(a);
        ChatThread thread = a.newThread(ALICE);
        RunId runId = a.send(thread.id(), "refund A-1").run().id();
        awaitSettled(a, runId);
        armed.set(true);
        java.util.concurrent.CompletableFuture<Object> decided = new java.util.concurrent.CompletableFuture<>();
        new Thread(() -> {
            try {
                decided.complete(a.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null)));
            } catch (RuntimeException e) {
                decided.complete(e);
            }
        }, "person").start();
        assertThat(decisionHeld.awaitEntered()).isTrue();
        return new HeldDecision(a, runId, decisionHeld, decided);
    }

    private static ApprovalCommand decision(ChatThread thread, RunId runId, ToolCall call, ApprovalDecision decision, String reason) {
        return new ApprovalCommand(ALICE, thread.id(), runId, call.id(), decision, reason);
    }

    /** The run's events up to the first {@code approval_required} after {@code afterSeq}, read like a client. */
    private static List<RunEvent> eventsUntilApprovalRequired(ChatHarness server, RunId runId, int approvals) throws InterruptedException {
        List<RunEvent> events = new ArrayList<>();
        try (RunSubscription sub = server.bus.subscribe(runId, 0)) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            int seen = 0;
            while (seen < approvals && System.nanoTime() < deadline) {
                Optional<RunEvent> e = sub.next(Duration.ofNanos(deadline - System.nanoTime()));
                if (e.isPresent()) {
                    events.add(e.get());
                    if (e.get() instanceof RunEvent.ApprovalRequired) {
                        seen++;
                    }
                }
            }
        }
        return events;
    }

    @Test
    void should_pause_a_run_for_approval_holding_no_execution_and_no_lease() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(LOOKUP, REFUND).reply("Refunded.").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);

        // when
        SendReceipt sent = server.send(thread.id(), "refund A-1");
        RunOutcome waiting = awaitSettled(server, sent.run().id());

        // then: the call that needs no approval ran, the other waits; nothing executes the run
        assertThat(waiting.run().status()).isEqualTo(RunStatus.REQUIRES_ACTION);
        assertThat(waiting.pendingApprovals()).containsExactly(REFUND);
        assertThat(waiting.steps()).extracting(Step::status)
                .containsExactly(StepStatus.COMPLETED, StepStatus.COMPLETED, StepStatus.AWAITING_APPROVAL);
        assertThat(refunds.get()).isZero();
        ChatHarness.eventually("the execution here ended", () -> server.service.executingHere() == 0);
        assertThat(shared.runs().leaseExpiresAt(sent.run().id())).isEmpty();
        List<RunEvent> events = eventsUntilApprovalRequired(server, sent.run().id(), 1);
        assertThat(Events.types(events)).containsExactly("run_started", "trace_start", "trace_end", "trace_start", "approval_required");
        assertThat(events).extracting(RunEvent::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(model.callCount()).isEqualTo(1);
    }

    @Test
    void should_run_an_approved_call_and_complete_the_run_in_one_gap_free_log() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("Refunded.").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "refund A-1").run().id();
        awaitSettled(server, runId);
        server.clock.advance(Duration.ofMinutes(7)); // a person takes their time

        // when
        RunOutcome after = server.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null));

        // then
        assertThat(after.run().status()).isIn(RunStatus.IN_PROGRESS, RunStatus.COMPLETED);
        RunOutcome done = server.awaitEnd(runId);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.responseText()).isEqualTo("Refunded.");
        assertThat(refunds.get()).isEqualTo(1);
        List<RunEvent> events = server.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.types(events).stream().distinct()).containsExactly("run_started", "trace_start", "approval_required",
                "approval_decided", "trace_end", "token", "done");
        assertThat(Events.ofType(events, RunEvent.ApprovalDecided.class).get(0).decision()).isEqualTo(ApprovalDecision.APPROVE);
        assertThat(model.lastRequest().messages()).extracting(Message::role).endsWith(Role.USER, Role.ASSISTANT, Role.TOOL);
        assertThat(model.lastRequest().messages().get(model.lastRequest().messages().size() - 1).text()).isEqualTo("refunded #1");
        assertThat(done.steps()).extracting(Step::status).containsExactly(StepStatus.COMPLETED, StepStatus.COMPLETED,
                StepStatus.COMPLETED);
        // the call's latency is its own, from when it ran: not the seven minutes it waited for the decision
        Step call = done.steps().get(1);
        assertThat(call.latencyMs()).isLessThan(Duration.ofMinutes(1).toMillis());
        assertThat(Events.ofType(events, RunEvent.TraceEnd.class).get(0).latencyMs()).isLessThan(Duration.ofMinutes(1).toMillis());
    }

    @Test
    void should_resume_only_when_the_last_call_is_decided_and_tell_the_model_of_a_denial_and_its_reason() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND, EMAIL).reply("Refunded, no email.").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "refund and email").run().id();
        assertThat(awaitSettled(server, runId).pendingApprovals()).containsExactly(REFUND, EMAIL);

        // when: one decision, then the other
        RunOutcome afterFirst = server.service.decide(decision(thread, runId, EMAIL, ApprovalDecision.DENY, "Not to Bob"));
        int modelCallsBetween = model.callCount();
        server.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null));

        // then
        assertThat(afterFirst.run().status()).isEqualTo(RunStatus.REQUIRES_ACTION);
        assertThat(afterFirst.pendingApprovals()).containsExactly(REFUND);
        assertThat(modelCallsBetween).isEqualTo(1);
        RunOutcome done = server.awaitEnd(runId);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(refunds.get()).isEqualTo(1);
        assertThat(emails.get()).as("a denied call never runs").isZero();
        List<Message> sent = model.lastRequest().messages();
        assertThat(sent).filteredOn(m -> m.role() == Role.TOOL).extracting(Message::toolCallId, Message::text)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("call_refund", "refunded #1"),
                        org.assertj.core.groups.Tuple.tuple("call_email", "error: the user denied this tool call: Not to Bob"));
        assertThat(done.steps()).extracting(Step::status).containsExactly(StepStatus.COMPLETED, StepStatus.COMPLETED,
                StepStatus.DENIED, StepStatus.COMPLETED);
        List<RunEvent> events = server.events(runId);
        Events.assertWellFormed(events);
        RunEvent.TraceEnd deniedEnd = Events.ofType(events, RunEvent.TraceEnd.class).stream()
                .filter(e -> e.status() == StepStatus.DENIED).findFirst().orElseThrow();
        assertThat(deniedEnd.error()).isEqualTo("Not to Bob");
    }

    @Test
    void should_refuse_unknown_calls_decided_calls_runs_not_waiting_and_other_users() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND, EMAIL).reply("ok").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "refund and email").run().id();
        awaitSettled(server, runId);
        server.service.decide(decision(thread, runId, EMAIL, ApprovalDecision.APPROVE, null));

        // when / then
        assertThatThrownBy(() -> server.service.decide(decision(thread, runId, new ToolCall("call_nope", "x", "{}"),
                ApprovalDecision.APPROVE, null)))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("tool_call_not_found"));
        assertThatThrownBy(() -> server.service.decide(decision(thread, runId, EMAIL, ApprovalDecision.DENY, null)))
                .isInstanceOfSatisfying(ConflictException.class,
                        e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.NOT_AWAITING_APPROVAL));
        assertThatThrownBy(() -> server.service.decide(new ApprovalCommand(BOB, thread.id(), runId, REFUND.id(),
                ApprovalDecision.APPROVE, null)))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).isEqualTo("thread_not_found"));
        assertThatThrownBy(() -> server.service.decide(decision(thread, runId, REFUND, ApprovalDecision.DENY, "bad\u0000")))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(f -> f.field()).containsExactly("reason"));
        server.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null));
        server.awaitEnd(runId);
        assertThatThrownBy(() -> server.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null)))
                .isInstanceOfSatisfying(ConflictException.class,
                        e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.NOT_AWAITING_APPROVAL));
    }

    @Test
    void should_cancel_a_waiting_run_answering_its_calls_and_freeing_the_thread() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("next answer").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "refund A-1").run().id();
        awaitSettled(server, runId);

        // when
        var cancelled = server.service.cancelRun(ALICE, thread.id(), runId);

        // then
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(refunds.get()).isZero();
        List<RunEvent> events = server.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).endsWith("approval_required", "trace_end", "cancelled");
        assertThat(server.storedRun(runId).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(server.store.runs().steps(runId)).extracting(Step::status).containsExactly(StepStatus.COMPLETED,
                StepStatus.CANCELLED);
        assertThat(server.history(thread.id())).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL);
        assertThatThrownBy(() -> server.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null)))
                .isInstanceOf(ConflictException.class);
        RunId next = server.send(thread.id(), "something else").run().id();
        assertThat(server.awaitEnd(next).responseText()).isEqualTo("next answer");
    }

    @Test
    void should_count_a_waiting_run_as_active_for_the_busy_rules() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("Refunded.").reply("And hello.").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);
        RunId waiting = server.send(thread.id(), "refund A-1").run().id();
        awaitSettled(server, waiting);

        // when / then: reject
        assertThatThrownBy(() -> server.send(thread.id(), "hello?", BusyPolicy.REJECT))
                .isInstanceOfSatisfying(ConflictException.class,
                        e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        // enqueue: waits behind the waiting run, starts once it ended
        SendReceipt queued = server.send(thread.id(), "hello?", BusyPolicy.ENQUEUE);
        assertThat(queued.run().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(server.storedRun(queued.run().id()).status()).isEqualTo(RunStatus.QUEUED);
        server.service.decide(decision(thread, waiting, REFUND, ApprovalDecision.APPROVE, null));
        assertThat(server.awaitEnd(waiting).responseText()).isEqualTo("Refunded.");
        assertThat(server.awaitEnd(queued.run().id()).responseText()).isEqualTo("And hello.");
    }

    @Test
    void should_cancel_a_waiting_run_on_interrupt() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("Something else then.").build();
        ChatHarness server = server(model);
        ChatThread thread = server.newThread(ALICE);
        RunId waiting = server.send(thread.id(), "refund A-1").run().id();
        awaitSettled(server, waiting);

        // when
        RunId next = server.send(thread.id(), "no, something else", BusyPolicy.INTERRUPT).run().id();

        // then
        assertThat(server.storedRun(waiting).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(server.awaitEnd(next).responseText()).isEqualTo("Something else then.");
        assertThat(refunds.get()).isZero();
    }

    @Test
    void should_deny_undecided_calls_with_reason_timeout_after_the_agents_approval_timeout() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("No refund then.").build();
        ChatHarness server = server(model, AgentLimits.DEFAULT.withApprovalTimeout(Duration.ofMinutes(5)),
                b -> b.reaperInterval(Duration.ofMillis(20)));
        ChatThread thread = server.newThread(ALICE);
        RunId runId = server.send(thread.id(), "refund A-1").run().id();
        awaitSettled(server, runId);

        // when
        server.clock.advance(Duration.ofMinutes(5));

        // then
        RunOutcome done = awaitTerminal(server, runId);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(refunds.get()).isZero();
        List<RunEvent> events = server.events(runId);
        RunEvent.ApprovalDecided decided = Events.ofType(events, RunEvent.ApprovalDecided.class).get(0);
        assertThat(decided.decision()).isEqualTo(ApprovalDecision.DENY);
        assertThat(decided.reason()).isEqualTo("timeout");
        assertThat(model.lastRequest().messages().get(model.lastRequest().messages().size() - 1).text())
                .isEqualTo("error: the user denied this tool call: timeout");
    }

    @Test
    void should_record_exactly_one_of_two_decisions_of_one_call_racing_on_two_servers() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("Done.").build();
        ChatHarness a = server(model);
        ChatHarness b = server(model);
        ChatThread thread = a.newThread(ALICE);
        RunId runId = a.send(thread.id(), "refund A-1").run().id();
        awaitSettled(a, runId);

        // when
        List<Object> results = race(2, i -> (i == 0 ? a : b).service.decide(
                decision(thread, runId, REFUND, i == 0 ? ApprovalDecision.APPROVE : ApprovalDecision.DENY, "racing")));

        // then
        assertThat(results).filteredOn(RunOutcome.class::isInstance).hasSize(1);
        assertThat(results).filteredOn(r -> r instanceof ConflictException c
                && c.reason() == ConflictException.Reason.NOT_AWAITING_APPROVAL).hasSize(1);
        a.awaitEnd(runId);
        List<RunEvent> events = a.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.ofType(events, RunEvent.ApprovalDecided.class)).hasSize(1);
        assertThat(Events.ofType(events, RunEvent.TraceEnd.class)).hasSize(1);
        assertThat(model.callCount()).isEqualTo(2);
    }

    @Test
    void should_keep_a_persons_decision_when_a_timeout_pass_saw_the_run_due_just_before() throws Exception {
        // given: server B's timeout pass found the run due, and is held before it reads its calls
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("Done.").build();
        ChatHarness a = server(model, AgentLimits.DEFAULT.withApprovalTimeout(Duration.ofMinutes(1)), b -> b.reaperInterval(Duration.ZERO));
        ChatThread thread = a.newThread(ALICE);
        RunId runId = a.send(thread.id(), "refund A-1").run().id();
        awaitSettled(a, runId);
        StoreViews.Gate timeoutPass = new StoreViews.Gate();
        ChatHarness b = ChatHarness.custom(StoreViews.holdingRunStoreCall(shared, "steps", args -> true, timeoutPass), model,
                List.of(ChatHarness.agent(AgentLimits.DEFAULT, tools())), x -> x.reaperInterval(Duration.ofMillis(20)));
        servers.add(b);
        // servers sharing a store keep their clocks in step
        a.clock.advance(Duration.ofMinutes(2));
        b.clock.advance(Duration.ofMinutes(2));
        assertThat(timeoutPass.awaitEntered()).isTrue();

        // when: the person approves meanwhile, then the timeout pass goes on
        a.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null));
        timeoutPass.release();

        // then: one outcome, the person's
        RunOutcome done = a.awaitEnd(runId);
        List<RunEvent> events = a.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.ofType(events, RunEvent.ApprovalDecided.class)).extracting(RunEvent.ApprovalDecided::decision)
                .containsExactly(ApprovalDecision.APPROVE);
        assertThat(refunds.get()).isEqualTo(1);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void should_refuse_a_persons_decision_that_the_timeout_took_first() throws Exception {
        // given: a person's decision on server A held after it checked the thread, before it reads the run
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("No refund then.").build();
        HeldDecision held = heldApproval(model, Duration.ofMinutes(1));
        RunId runId = held.runId();
        java.util.concurrent.CompletableFuture<Object> decided = held.decided();

        // when: the timeout on server B denies the call and the run completes there; then the person's decision goes on
        ChatHarness b = server(model, AgentLimits.DEFAULT.withApprovalTimeout(Duration.ofMinutes(1)),
                x -> x.reaperInterval(Duration.ofMillis(20)));
        b.clock.advance(Duration.ofMinutes(2));
        RunOutcome done = awaitTerminal(b, runId);
        held.gate().release();

        // then
        assertThat(decided.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                .isInstanceOfSatisfying(ConflictException.class,
                        e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.NOT_AWAITING_APPROVAL));
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        List<RunEvent> events = b.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.ofType(events, RunEvent.ApprovalDecided.class)).extracting(RunEvent.ApprovalDecided::reason)
                .containsExactly("timeout");
        assertThat(refunds.get()).isZero();
    }

    @Test
    void should_complete_a_run_decided_on_a_server_started_after_every_server_stopped() throws Exception {
        // given: the run pauses on A; A stops
        ScriptedChatModel modelA = ScriptedChatModel.builder().callTools(REFUND).build();
        ChatHarness a = server(modelA);
        ChatThread thread = a.newThread(ALICE);
        RunId runId = a.send(thread.id(), "refund A-1").run().id();
        awaitSettled(a, runId);
        a.close();
        servers.remove(a);

        // when: B starts later and takes the decision
        ScriptedChatModel modelB = ScriptedChatModel.builder().reply("Refunded after a restart.").build();
        ChatHarness b = server(modelB);
        b.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null));

        // then
        RunOutcome done = b.awaitEnd(runId);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.responseText()).isEqualTo("Refunded after a restart.");
        List<RunEvent> events = b.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.types(events).stream().distinct()).containsExactly("run_started", "trace_start", "approval_required",
                "approval_decided", "trace_end", "token", "done");
    }

    @Test
    void should_resume_at_once_on_a_live_server_a_run_whose_last_decision_its_stopping_server_recorded() throws Exception {
        // given: the run pauses on A (a day to decide); a person's decision on A is held before it reads the run
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(REFUND).reply("Refunded on B.").build();
        HeldDecision held = heldApproval(model, Duration.ofDays(1));
        RunId runId = held.runId();

        // when: A stops while the decision is under way, which then records it; B runs its passes, its clock unmoved
        held.server().close();
        held.gate().release();
        Object recorded = held.decided().get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        ChatHarness b = server(model, AgentLimits.DEFAULT.withApprovalTimeout(Duration.ofDays(1)),
                x -> x.reaperInterval(Duration.ofMillis(20)));

        // then: recorded on A, resumed and completed on B long before the day is out
        assertThat(recorded).isInstanceOfSatisfying(RunOutcome.class,
                r -> assertThat(r.run().status()).isEqualTo(RunStatus.REQUIRES_ACTION));
        RunOutcome done = awaitTerminal(b, runId);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.responseText()).isEqualTo("Refunded on B.");
        assertThat(refunds.get()).isEqualTo(1);
        List<RunEvent> events = b.events(runId);
        Events.assertWellFormed(events);
        assertThat(Events.ofType(events, RunEvent.ApprovalDecided.class)).extracting(RunEvent.ApprovalDecided::decision)
                .containsExactly(ApprovalDecision.APPROVE);
    }

    @Test
    void should_let_a_reader_on_the_pausing_server_follow_a_run_decided_and_completed_on_another() throws Exception {
        // given: the run pauses on A, where a reader follows it
        ScriptedChatModel modelA = ScriptedChatModel.builder().callTools(REFUND).build();
        ChatHarness a = server(modelA);
        ScriptedChatModel modelB = ScriptedChatModel.builder().reply("Refunded on B.").build();
        ChatHarness b = server(modelB);
        ChatThread thread = a.newThread(ALICE);
        RunId runId = a.send(thread.id(), "refund A-1").run().id();
        awaitSettled(a, runId);
        List<RunEvent> seen = new ArrayList<>();
        try (RunSubscription reader = a.bus.subscribe(runId, 0)) {
            while (seen.isEmpty() || !(seen.get(seen.size() - 1) instanceof RunEvent.ApprovalRequired)) {
                reader.next(WAIT).ifPresent(seen::add);
            }

            // when
            b.service.decide(decision(thread, runId, REFUND, ApprovalDecision.APPROVE, null));

            // then
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!reader.isFinished() && System.nanoTime() < deadline) {
                reader.next(Duration.ofNanos(deadline - System.nanoTime())).ifPresent(seen::add);
            }
        }
        Events.assertWellFormed(seen);
        assertThat(Events.types(seen).stream().distinct()).containsExactly("run_started", "trace_start", "approval_required",
                "approval_decided", "trace_end", "token", "done");
        assertThat(Events.tokens(seen)).isEqualTo("Refunded on B.");
        assertThat(modelA.callCount()).isEqualTo(1);
        assertThat(modelB.callCount()).isEqualTo(1);
    }

    @Test
    void should_pause_for_a_tool_that_a_stored_agent_requires_approval_of() throws Exception {
        // given: a stored agent that requires approval of lookup (which needs none by itself), within a minute
        ScriptedChatModel model = ScriptedChatModel.builder().callTools(LOOKUP).reply("Looked up.").build();
        ChatHarness server = server(model, AgentLimits.DEFAULT, b -> b.reaperInterval(Duration.ofMillis(20)));
        var careful = server.service.createAgent(dev.parley.chat.port.in.Caller.user(ALICE),
                new dev.parley.chat.model.AgentDefinition("Careful", "", "Be careful.", null, null, List.of("lookup"), List.of(),
                        null, null).withApprovals(List.of("lookup"), 60));
        ChatThread thread = server.service.createThread(new dev.parley.chat.port.in.CreateThreadCommand(ALICE, careful.id(), null, null));

        // when
        RunId runId = server.send(thread.id(), "look it up").run().id();
        RunOutcome waiting = awaitSettled(server, runId);
        server.clock.advance(Duration.ofSeconds(60));

        // then
        assertThat(waiting.run().status()).isEqualTo(RunStatus.REQUIRES_ACTION);
        assertThat(waiting.pendingApprovals()).containsExactly(LOOKUP);
        RunOutcome done = awaitTerminal(server, runId);
        assertThat(Events.ofType(server.events(runId), RunEvent.ApprovalDecided.class)).extracting(RunEvent.ApprovalDecided::reason)
                .containsExactly("timeout");
        assertThat(done.steps()).extracting(Step::status).contains(StepStatus.DENIED);
    }

    /** Runs {@code task(0..n-1)} on {@code n} threads released at once; what each returned or threw, in task order. */
    private static List<Object> race(int n, java.util.function.IntFunction<Object> task) throws Exception {
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.CompletableFuture<Object>> results = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            java.util.concurrent.CompletableFuture<Object> result = new java.util.concurrent.CompletableFuture<>();
            results.add(result);
            new Thread(() -> {
                try {
                    go.await();
                    result.complete(task.apply(index));
                } catch (Throwable t) {
                    result.complete(t);
                }
            }, "racer-" + i).start();
        }
        go.countDown();
        List<Object> out = new ArrayList<>();
        for (var r : results) {
            out.add(r.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
        }
        return out;
    }
}
