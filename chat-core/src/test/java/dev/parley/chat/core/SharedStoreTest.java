package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two services sharing one store and event log, as two servers sharing a database do. */
class SharedStoreTest {
    private final ChatStore store = InMemoryAdapters.store();
    private ChatHarness serverA;
    private ChatHarness serverB;

    @AfterEach
    void tearDown() {
        if (serverA != null) {
            serverA.close();
        }
        if (serverB != null) {
            serverB.close();
        }
    }

    @Test
    void should_stop_a_run_executing_on_another_server_and_keep_its_partial_text() throws Exception {
        // given a run executing on server A
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("Half", " done").build();
        serverA = ChatHarness.custom(store, modelA, List.of(ChatHarness.agent(null)),
                b -> b.endedElsewhereCheck(Duration.ofMillis(10)));
        serverB = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.endedElsewhereCheck(Duration.ZERO));
        ChatThread thread = serverA.newThread(ALICE);
        SendReceipt sent = serverA.send(thread.id(), "long task");
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();

        // when server B is asked to cancel it
        Run cancelled = serverB.service.cancelActiveRun(ALICE, thread.id());

        // then
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        List<RunEvent> events = serverA.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "token", "cancelled");
        List<Message> history = serverA.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("long task", "Half done");
        assertThat(history.get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(((RunEvent.Cancelled) Events.last(events)).messageId()).isEqualTo(history.get(1).id());
        assertThat(serverA.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
    }

    @Test
    void should_stop_a_run_at_once_when_the_store_hints_that_another_server_cancelled_it() throws Exception {
        // given a run executing on server A, which neither polls for cancels nor renews its lease during the
        // test: only the store's hint can stop it
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("Half", " done").build();
        serverA = ChatHarness.custom(store, modelA, List.of(ChatHarness.agent(null)),
                b -> b.endedElsewhereCheck(Duration.ZERO).runLease(Duration.ofHours(1)));
        serverB = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.endedElsewhereCheck(Duration.ZERO).cancelTimeout(Duration.ofSeconds(30)));
        ChatThread thread = serverA.newThread(ALICE);
        SendReceipt sent = serverA.send(thread.id(), "long task");
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();

        // when
        Run cancelled = serverB.service.cancelActiveRun(ALICE, thread.id());

        // then server A stopped the run and kept its partial text
        assertThat(cancelled.status()).isEqualTo(RunStatus.CANCELLED);
        List<Message> history = serverA.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("long task", "Half done");
        List<RunEvent> events = serverB.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(((RunEvent.Cancelled) Events.last(events)).messageId()).isEqualTo(history.get(1).id());
    }

    @Test
    void should_renew_the_lease_of_a_run_while_it_executes() throws Exception {
        // given a run executing under a short lease
        TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("Half").build();
        serverA = ChatHarness.custom(store, modelA, List.of(ChatHarness.agent(null)),
                b -> b.clock(clock).runLease(Duration.ofMillis(300)).reaperInterval(Duration.ZERO));
        ChatThread thread = serverA.newThread(ALICE);
        SendReceipt sent = serverA.send(thread.id(), "long task");
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();

        // when an hour goes by
        clock.advance(Duration.ofHours(1));

        // then its server renewed the lease: it runs past the new now
        ChatHarness.eventually("the lease was renewed", () -> store.runs().expiredLeases(clock.instant(), 10).isEmpty());
        assertThat(store.runs().find(sent.run().id()).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        modelA.release();
        serverA.awaitEnd(sent.run().id());
    }

    @Test
    void should_stop_a_run_here_and_end_its_stream_when_another_server_ended_it_after_its_lease_expired() throws Exception {
        // given a run on server A whose clock stands still, so that its renewals never move the lease on
        TestClock clockA = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        TestClock clockB = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("Half", " done").build();
        serverA = ChatHarness.custom(store, modelA, List.of(ChatHarness.agent(null)),
                b -> b.clock(clockA).runLease(Duration.ofSeconds(30)).reaperInterval(Duration.ZERO).endedElsewhereCheck(Duration.ZERO));
        ChatThread thread = serverA.newThread(ALICE);
        SendReceipt sent = serverA.send(thread.id(), "long task");
        RunId runId = sent.run().id();
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();
        ChatHarness.eventually("the tokens are stored", () -> store.events().lastSeq(runId) == 3);

        // when server B's clock is past the lease, as if server A had stopped
        clockB.advance(Duration.ofSeconds(31));
        serverB = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.clock(clockB).runLease(Duration.ofSeconds(30)).reaperInterval(Duration.ofMillis(20)));

        // then server B ended it as interrupted, keeping the streamed text
        RunOutcome outcome = serverB.awaitEnd(runId);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("interrupted");
        assertThat(outcome.responseText()).isEqualTo("Half done");
        // and server A stopped it: readers on both servers see one stream that ends with that error
        List<RunEvent> onA = serverA.events(runId);
        List<RunEvent> onB = serverB.events(runId);
        Events.assertWellFormed(onA);
        Events.assertWellFormed(onB);
        assertThat(Events.types(onA)).containsExactly("run_started", "token", "token", "error");
        assertThat(onA).isEqualTo(onB);
        ChatHarness.eventually("server A's run ended", () -> serverA.service.getRun(ALICE, thread.id(), runId).run().isTerminal());
        assertThat(serverA.history(thread.id())).extracting(Message::text).containsExactly("long task", "Half done");
    }
}
