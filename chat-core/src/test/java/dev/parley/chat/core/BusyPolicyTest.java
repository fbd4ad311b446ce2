package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ModelRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BusyPolicyTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    private static String lastUserText(ModelRequest request) {
        List<Message> messages = request.messages();
        return messages.get(messages.size() - 1).text();
    }

    @Test
    void should_reject_a_send_while_a_run_is_active_by_default() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("busy").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "one");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when / then
        assertThatThrownBy(() -> chat.send(thread.id(), "two"))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        assertThat(chat.history(thread.id())).extracting(Message::text).containsExactly("one");
        model.release();
        chat.awaitEnd(first.run().id());
    }

    @Test
    void should_cancel_the_active_run_first_when_interrupting_so_history_reads_q1_partial_a1_q2_a2() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("partial", " a1").reply("a2").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "q1");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when
        SendReceipt second = chat.send(thread.id(), "q2", BusyPolicy.INTERRUPT);
        RunOutcome outcome = chat.awaitEnd(second.run().id());

        // then
        assertThat(chat.storedRun(first.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("q1", "partial a1", "q2", "a2");
        assertThat(history).extracting(Message::status).containsExactly(MessageStatus.COMPLETED, MessageStatus.INCOMPLETE,
                MessageStatus.COMPLETED, MessageStatus.COMPLETED);
        assertThat(Events.last(chat.events(first.run().id()))).isInstanceOf(RunEvent.Cancelled.class);
        // the interrupted answer is part of what the model sees next
        assertThat(model.lastRequest().messages()).extracting(Message::text).containsSubsequence("q1", "partial a1", "q2");
    }

    @Test
    void should_run_enqueued_messages_in_order_after_the_active_run() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a1").reply("a2").reply("a3").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "q1");
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        SendReceipt second = chat.send(thread.id(), "q2", BusyPolicy.ENQUEUE);
        SendReceipt third = chat.send(thread.id(), "q3", BusyPolicy.ENQUEUE);
        assertThat(second.run().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(chat.storedRun(third.run().id()).status()).isEqualTo(RunStatus.QUEUED);

        // when
        model.release();

        // then
        assertThat(chat.awaitEnd(third.run().id()).responseText()).isEqualTo("a3");
        assertThat(chat.awaitEnd(second.run().id()).responseText()).isEqualTo("a2");
        assertThat(chat.awaitEnd(first.run().id()).responseText()).isEqualTo("a1");
        assertThat(model.requests()).extracting(BusyPolicyTest::lastUserText).containsExactly("q1", "q2", "q3");
        // a queued run sees the answers that came before it, and its own question last
        assertThat(model.requests().get(1).messages()).extracting(Message::text)
                .containsExactly(ChatHarness.SYSTEM_PROMPT, "q1", "a1", "q2");
        Run firstRun = chat.storedRun(first.run().id());
        Run secondRun = chat.storedRun(second.run().id());
        assertThat(secondRun.startedAt()).isAfterOrEqualTo(firstRun.completedAt());
    }

    @Test
    void should_let_exactly_one_of_many_concurrent_senders_start_a_run() throws Exception {
        // given a run that stays active until released
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("only one").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        int senders = 16;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        List<Future<SendReceipt>> results = new ArrayList<>();
        for (int i = 0; i < senders; i++) {
            String text = "message " + i;
            results.add(pool.submit(() -> {
                go.await();
                return chat.send(thread.id(), text);
            }));
        }

        // when
        go.countDown();
        List<SendReceipt> accepted = Collections.synchronizedList(new ArrayList<>());
        int rejected = 0;
        for (Future<SendReceipt> result : results) {
            try {
                accepted.add(result.get(10, TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).isInstanceOfSatisfying(ConflictException.class,
                        c -> assertThat(c.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
                rejected++;
            }
        }
        pool.shutdown();

        // then
        assertThat(accepted).hasSize(1);
        assertThat(rejected).isEqualTo(senders - 1);
        assertThat(chat.store.runs().active(thread.id())).hasSize(1);
        assertThat(chat.history(thread.id())).filteredOn(m -> m.role() == Role.USER).hasSize(1);
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        model.release();
        chat.awaitEnd(accepted.get(0).run().id());
    }

    @Test
    void should_serve_concurrently_enqueued_messages_in_the_order_they_were_stored() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.echo();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        int senders = 8;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        List<Future<SendReceipt>> results = new ArrayList<>();
        for (int i = 0; i < senders; i++) {
            String text = "message " + i;
            results.add(pool.submit(() -> {
                go.await();
                return chat.send(thread.id(), text, BusyPolicy.ENQUEUE);
            }));
        }

        // when
        go.countDown();
        List<RunOutcome> outcomes = new ArrayList<>();
        for (Future<SendReceipt> result : results) {
            outcomes.add(chat.awaitEnd(result.get(10, TimeUnit.SECONDS).run().id()));
        }
        pool.shutdown();

        // then
        assertThat(outcomes).allSatisfy(o -> assertThat(o.run().status()).isEqualTo(RunStatus.COMPLETED));
        List<String> storedOrder = chat.history(thread.id()).stream()
                .filter(m -> m.role() == Role.USER).map(Message::text).toList();
        assertThat(storedOrder).hasSize(senders);
        assertThat(model.requests()).extracting(BusyPolicyTest::lastUserText).containsExactlyElementsOf(storedOrder);
    }
}
