package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.LimitExceededException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.ServerLoad;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-user limit of active runs and the per-server admission of executing runs. */
class LimitsTest {
    private final ChatStore store = InMemoryAdapters.store();
    private final List<ChatHarness> servers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    /** A model whose first {@code blocking} calls stream a token and wait for {@link ScriptedChatModel#release()}. */
    private static ScriptedChatModel blocking(int blocking) {
        ScriptedChatModel.Builder model = ScriptedChatModel.builder();
        for (int i = 0; i < blocking; i++) {
            model.turn(Script.tokens("working").thenBlock());
        }
        return model.build();
    }

    private ChatHarness server(ScriptedChatModel model, UnaryOperator<ChatServiceBuilder> customize) {
        ChatHarness server = ChatHarness.custom(store, model, List.of(ChatHarness.agent(null)), customize);
        servers.add(server);
        return server;
    }

    private static RunStatus awaitEnd(ChatHarness server, SendReceipt sent) throws InterruptedException {
        var outcome = server.service.await(sent.thread().ownerId(), sent.run().id(), WAIT);
        assertThat(outcome.run().isTerminal()).as("run %s ended", sent.run().id()).isTrue();
        return outcome.run().status();
    }

    private static SendReceipt sendNew(ChatHarness server, String user) {
        return server.service.send(SendMessageCommand.newThread(user, "hello"));
    }

    @Test
    void should_refuse_a_send_past_the_users_active_runs_store_nothing_and_accept_one_as_soon_as_a_run_ends() throws Exception {
        // given: alice has two runs in progress, the most allowed
        ScriptedChatModel model = blocking(2);
        ChatHarness chat = server(model, b -> b.maxActiveRunsPerUser(2));
        SendReceipt first = sendNew(chat, ALICE);
        sendNew(chat, ALICE);
        assertThat(model.awaitCalls(2, WAIT)).isTrue();

        // when / then: a third, on a new thread, is refused and leaves no thread behind
        assertThatThrownBy(() -> sendNew(chat, ALICE))
                .isInstanceOfSatisfying(LimitExceededException.class, e -> {
                    assertThat(e.code()).isEqualTo("too_many_active_runs");
                    assertThat(e.limit()).isEqualTo(2);
                    assertThat(e.retryAfter()).isPositive();
                });
        assertThat(chat.service.listThreads(ALICE, null, PageRequest.first(10)).items()).hasSize(2);
        // on an existing thread, enqueued, too: a queued run is an active run
        assertThatThrownBy(() -> chat.service.send(SendMessageCommand.text(ALICE, first.thread().id(), "later")
                .withBusyPolicy(BusyPolicy.ENQUEUE))).isInstanceOf(LimitExceededException.class);
        // another user has a limit of their own
        sendNew(chat, BOB);
        assertThat(chat.service.load().refusedActiveRuns()).isEqualTo(2);

        // when her runs end, her next send is accepted at once
        model.release();
        model.release();
        chat.awaitEnd(first.run().id());
        SendReceipt next = sendNew(chat, ALICE);

        // then
        assertThat(next.run().status()).isIn(RunStatus.IN_PROGRESS, RunStatus.QUEUED);
    }

    @Test
    void should_count_the_active_runs_of_a_user_in_the_store_across_servers() throws Exception {
        // given: one run of alice executing on each of two servers sharing the store, with a limit of 2
        ScriptedChatModel modelA = blocking(1);
        ScriptedChatModel modelB = blocking(1);
        ChatHarness a = server(modelA, b -> b.maxActiveRunsPerUser(2));
        ChatHarness b = server(modelB, builder -> builder.maxActiveRunsPerUser(2));
        sendNew(a, ALICE);
        sendNew(b, ALICE);
        assertThat(modelA.awaitCalls(1, WAIT)).isTrue();
        assertThat(modelB.awaitCalls(1, WAIT)).isTrue();

        // when / then: neither server accepts a third
        assertThatThrownBy(() -> sendNew(a, ALICE)).isInstanceOf(LimitExceededException.class);
        assertThatThrownBy(() -> sendNew(b, ALICE)).isInstanceOf(LimitExceededException.class);
        modelA.release();
        modelB.release();
    }

    @Test
    void should_keep_runs_beyond_the_servers_limit_queued_and_start_them_in_order_as_slots_free() throws Exception {
        // given: a server that executes one run at once
        ScriptedChatModel model = blocking(3);
        ChatHarness chat = server(model, b -> b.maxExecutingRuns(1).queuedRunsPoll(Duration.ZERO));
        SendReceipt first = sendNew(chat, ALICE);
        assertThat(model.awaitCalls(1, WAIT)).isTrue();

        // when two more runs come, on threads of their own
        SendReceipt second = sendNew(chat, BOB);
        SendReceipt third = sendNew(chat, ALICE);

        // then they wait, queued in the store
        assertThat(second.run().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(chat.storedRun(third.run().id()).status()).isEqualTo(RunStatus.QUEUED);
        ServerLoad load = chat.service.load();
        assertThat(load.executing()).isEqualTo(1);
        assertThat(load.maxExecuting()).isEqualTo(1);
        assertThat(load.queued()).isEqualTo(2);
        assertThat(load.admissionDeferred()).isEqualTo(2);

        // and start one at a time, oldest first, as the runs before them end
        model.release();
        chat.awaitEnd(first.run().id());
        assertThat(model.awaitCalls(2, WAIT)).isTrue();
        assertThat(chat.storedRun(second.run().id()).status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(chat.storedRun(third.run().id()).status()).isEqualTo(RunStatus.QUEUED);
        model.release();
        awaitEnd(chat, second);
        model.release();
        assertThat(chat.awaitEnd(third.run().id()).run().status()).isEqualTo(RunStatus.COMPLETED);
        // a run's slot is given back once its execution has ended, just after its end is stored
        ChatHarness.eventually("every slot given back", () -> chat.service.load().executing() == 0);
    }

    @Test
    void should_let_a_server_with_room_start_the_runs_a_full_server_left_queued() throws Exception {
        // given: server A executes one run at once, server B has room and looks for queued runs often
        ScriptedChatModel modelA = blocking(1);
        ChatHarness a = server(modelA, b -> b.maxExecutingRuns(1).queuedRunsPoll(Duration.ZERO));
        ChatHarness b = server(ScriptedChatModel.echo(), builder -> builder.queuedRunsPoll(Duration.ofMillis(20)));
        SendReceipt held = sendNew(a, ALICE);
        assertThat(modelA.awaitCalls(1, WAIT)).isTrue();

        // when three more runs reach the full server
        List<SendReceipt> more = List.of(sendNew(a, ALICE), sendNew(a, BOB), sendNew(a, ALICE));

        // then server B executes them while A's run still holds its slot
        for (SendReceipt sent : more) {
            assertThat(awaitEnd(b, sent)).isEqualTo(RunStatus.COMPLETED);
        }
        assertThat(modelA.callCount()).isEqualTo(1);
        assertThat(a.storedRun(held.run().id()).status()).isEqualTo(RunStatus.IN_PROGRESS);
        modelA.release();
        a.awaitEnd(held.run().id());
    }

    @Test
    void should_refuse_limits_that_make_no_sense() {
        assertThatThrownBy(() -> ChatService.builder().maxExecutingRuns(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ChatService.builder().maxActiveRunsPerUser(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ChatService.builder().queuedRunsPoll(Duration.ofMillis(1))).isInstanceOf(IllegalArgumentException.class);
    }
}
