package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static dev.parley.chat.core.ChatHarness.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.out.ChatModel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Runs that end while the store cannot be reached, and reapers that could not reach it. */
class StoreOutageTest {
    private static final Duration LEASE = Duration.ofSeconds(30);

    private final OutageStore outage = new OutageStore(InMemoryAdapters.store());
    private final List<ChatHarness> servers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    private ChatHarness server(OutageStore.Target target, ScriptedChatModel model, TestClock clock, Duration reaperInterval) {
        ChatHarness server = ChatHarness.custom(target == OutageStore.Target.THROUGH_OUTAGE ? outage.store() : outage.database(),
                model, List.of(ChatHarness.agent(null)),
                b -> b.clock(clock).runLease(LEASE).reaperInterval(reaperInterval).endedElsewhereCheck(Duration.ZERO));
        servers.add(server);
        return server;
    }

    @Test
    void should_return_from_close_only_once_a_reaper_pass_under_way_is_out_of_the_store() throws Exception {
        // given a server whose reaper pass is in a store call that outlasts an interrupt, as a JDBC call can
        OutageStore.Hold pass = outage.hold("expiredLeases");
        TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ChatHarness chat = server(OutageStore.Target.THROUGH_OUTAGE, ScriptedChatModel.builder().reply("Hi").build(), clock,
                Duration.ofMillis(20));
        assertThat(pass.awaitEntered(WAIT)).isTrue();

        // when the service closes
        CompletableFuture<Void> closing = CompletableFuture.runAsync(chat::close);

        // then close waits for the pass (after which the store may be closed), and returns once it is done
        assertThatThrownBy(() -> closing.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
        pass.release();
        closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(closing).isCompleted();
    }

    @Test
    void should_store_the_end_of_a_run_that_ended_during_an_outage_with_its_partial_text_once_the_store_is_back() throws Exception {
        // given a run streaming on a server whose reaper passes every 20 ms
        TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("Half", " done").build();
        ChatHarness chat = server(OutageStore.Target.THROUGH_OUTAGE, model, clock, Duration.ofMillis(20));
        ChatThread thread = chat.newThread(ALICE);
        RunId runId = chat.send(thread.id(), "question").run().id();
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when the database stops, the model answers meanwhile and the run's lease expires
        outage.stop();
        model.release();
        List<RunEvent> streamed = chat.events(runId);
        clock.advance(LEASE.plusSeconds(1));

        // then the stream ended with the store's failure, while the database still holds the run in progress
        Events.assertWellFormed(streamed);
        assertThat(Events.types(streamed)).containsExactly("run_started", "token", "token", "error");
        assertThat(((RunEvent.Error) Events.last(streamed)).code()).isEqualTo("unavailable");
        assertThat(outage.database().runs().find(runId).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);

        // when the database is back
        outage.start();

        // then the run ends as its stream said, not as interrupted, and keeps what it streamed
        RunOutcome outcome = chat.awaitEnd(runId);
        Message kept = assertFailedUnavailableKeeping(chat, outcome, "Half done");
        assertThat(outcome.run().assistantMessageId()).isEqualTo(kept.id());
        // and the stored event log is the stream its readers saw
        assertThat(outage.database().events().read(runId, 0, 100)).isEqualTo(streamed);
        // and the thread takes the next message
        RunOutcome next = chat.awaitEnd(chat.send(thread.id(), "again").run().id());
        assertThat(next.run().status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void should_keep_the_partial_text_of_a_run_whose_end_failed_though_the_store_answered_right_after() throws Exception {
        // given a run whose model stops the database as it answers, and a database that is back by the next ping
        TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ChatModel model = (request, listener, cancellation) -> {
            listener.onToken("Half");
            listener.onToken(" done");
            outage.stop();
            outage.startOnNextPing();
            return dev.parley.chat.port.out.ModelResponse.text("Half done", null);
        };
        ChatHarness chat = ChatHarness.custom(outage.store(), model, List.of(ChatHarness.agent(null)),
                b -> b.clock(clock).runLease(LEASE).reaperInterval(Duration.ofMillis(20)).endedElsewhereCheck(Duration.ZERO));
        servers.add(chat);
        ChatThread thread = chat.newThread(ALICE);

        // when the run ends
        RunId runId = chat.send(thread.id(), "question").run().id();
        RunOutcome outcome = chat.awaitEnd(runId);

        // then it failed on the store, and kept what it streamed
        assertFailedUnavailableKeeping(chat, outcome, "Half done");
    }

    /** The run failed on the store and its thread holds the question, then {@code partial} kept as incomplete. */
    private static Message assertFailedUnavailableKeeping(ChatHarness chat, RunOutcome outcome, String partial) {
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("unavailable");
        List<Message> history = chat.history(outcome.run().threadId());
        assertThat(history).extracting(Message::text).containsExactly("question", partial);
        assertThat(history.get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        return history.get(1);
    }

    @Test
    void should_leave_expired_leases_for_one_lease_after_the_store_was_unreachable_then_end_them() throws Exception {
        // given a run on server A, whose clock stands still so that its renewals never move its lease on
        TestClock clockA = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ScriptedChatModel modelA = ScriptedChatModel.builder().tokensThenBlock("Half").build();
        ChatHarness serverA = server(OutageStore.Target.DATABASE, modelA, clockA, Duration.ZERO);
        ChatThread thread = serverA.newThread(ALICE);
        RunId runId = serverA.send(thread.id(), "question").run().id();
        assertThat(modelA.awaitBlocked(WAIT)).isTrue();
        // and server B, which cannot reach the database for a while, past the lease of that run
        TestClock clockB = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        outage.stop();
        ChatHarness serverB = server(OutageStore.Target.THROUGH_OUTAGE, ScriptedChatModel.echo(), clockB, Duration.ofMillis(20));
        clockB.advance(LEASE.plusSeconds(1));
        eventually("server B's reaper tried the store", () -> outage.calls("ping") >= 2);

        // when the database answers server B again, and its reaper passes twice
        outage.start();
        int passes = outage.calls("withStatus");
        eventually("server B's reaper passed twice", () -> outage.calls("withStatus") >= passes + 2);

        // then the run is left to its server for one lease
        assertThat(outage.database().runs().find(runId).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);

        // when a lease goes by without a renewal
        clockB.advance(LEASE);

        // then server B ends it
        RunOutcome outcome = serverB.awaitEnd(runId);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("interrupted");
        assertThat(outcome.responseText()).isEqualTo("Half");
    }

    @Test
    void should_store_a_cancel_that_the_store_could_not_take_once_it_is_back_keeping_the_partial_text() throws Exception {
        // given a run streaming on a server, whose model stops the database as the run is cancelled
        TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
        ChatModel model = (request, listener, cancellation) -> {
            CountDownLatch cancelled = new CountDownLatch(1);
            // the database stops within the cancel, before the run's end is stored (on whichever thread ends it);
            // registered before the token, which the test waits for before it cancels
            cancellation.onCancel(() -> {
                outage.stop();
                cancelled.countDown();
            });
            listener.onToken("Half");
            while (true) {
                try {
                    cancelled.await();
                    break;
                } catch (InterruptedException e) {
                    // the run's cancel interrupts the model call too; wait for the cancel itself
                }
            }
            throw new RunCancelledException();
        };
        ChatHarness chat = ChatHarness.custom(outage.store(), model, List.of(ChatHarness.agent(null)),
                b -> b.clock(clock).runLease(LEASE).reaperInterval(Duration.ofMillis(20)).endedElsewhereCheck(Duration.ZERO)
                        .cancelTimeout(Duration.ofMinutes(5)));
        servers.add(chat);
        ChatThread thread = chat.newThread(ALICE);
        RunId runId = chat.send(thread.id(), "question").run().id();
        ChatHarness.eventually("the run streamed", () -> chat.bus.lastSeq(runId) == 2);

        // when it is cancelled
        CompletableFuture<Run> cancel = CompletableFuture.supplyAsync(() -> chat.service.cancelRun(ALICE, thread.id(), runId));

        // then its stream ends with cancelled, while the database still holds the run in progress and the cancel waits
        List<RunEvent> streamed = chat.events(runId);
        assertThat(Events.types(streamed)).containsExactly("run_started", "token", "cancelled");
        assertThat(outage.database().runs().find(runId).orElseThrow().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(cancel).isNotDone();

        // when the database is back
        outage.start();

        // then the cancel is stored with the partial text, and answered
        assertThat(cancel.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).status()).isEqualTo(RunStatus.CANCELLED);
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("question", "Half");
        assertThat(history.get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(outage.database().runs().find(runId).orElseThrow().assistantMessageId()).isEqualTo(history.get(1).id());
    }
}
