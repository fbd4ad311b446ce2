package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IdempotencyTest {
    private ChatHarness chat;

    @BeforeEach
    void setUp() {
        chat = ChatHarness.of(ScriptedChatModel.echo());
    }

    @AfterEach
    void tearDown() {
        chat.close();
    }

    private SendMessageCommand keyed(ChatThread thread, String text, String key) {
        return SendMessageCommand.text(ALICE, thread == null ? null : thread.id(), text).withIdempotencyKey(key);
    }

    @Test
    void should_answer_the_original_run_without_new_rows_when_a_send_is_retried_with_its_key() {
        // given
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt original = chat.service.send(keyed(thread, "hello", "key-1"));
        chat.awaitEnd(original.run().id());

        // when
        SendReceipt retry = chat.service.send(keyed(thread, "hello", "key-1"));

        // then
        assertThat(retry.replayed()).isTrue();
        assertThat(retry.run().id()).isEqualTo(original.run().id());
        assertThat(retry.userMessage().id()).isEqualTo(original.userMessage().id());
        assertThat(retry.thread().id()).isEqualTo(thread.id());
        assertThat(chat.history(thread.id())).hasSize(2);
        assertThat(chat.service.listRuns(ALICE, thread.id(), PageRequest.firstPage()).items()).hasSize(1);
    }

    @Test
    void should_replay_a_keyed_send_that_created_its_thread() {
        // given
        SendReceipt original = chat.service.send(keyed(null, "new conversation", "key-1"));
        chat.awaitEnd(original.run().id());

        // when
        SendReceipt retry = chat.service.send(keyed(null, "new conversation", "key-1"));

        // then
        assertThat(retry.replayed()).isTrue();
        assertThat(retry.thread().id()).isEqualTo(original.thread().id());
        assertThat(chat.service.listThreads(ALICE, null, null).items()).hasSize(1);
    }

    @Test
    void should_reject_a_key_reused_with_another_message() {
        // given
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.service.send(keyed(thread, "hello", "key-1")).run().id());

        // when / then
        assertThatThrownBy(() -> chat.service.send(keyed(thread, "something else", "key-1")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo("idempotency_key_reused");
                    assertThat(e.errors()).extracting(f -> f.field()).containsExactly("idempotency_key");
                });
        assertThat(chat.history(thread.id())).hasSize(2);
    }

    @Test
    void should_reject_a_key_reused_with_another_busy_policy() {
        // given
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.service.send(keyed(thread, "hello", "key-1")).run().id());

        // when / then
        assertThatThrownBy(() -> chat.service.send(keyed(thread, "hello", "key-1").withBusyPolicy(BusyPolicy.ENQUEUE)))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.code()).isEqualTo("idempotency_key_reused"));
    }

    @Test
    void should_forget_keys_after_24_hours() {
        // given
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt original = chat.service.send(keyed(thread, "hello", "key-1"));
        chat.awaitEnd(original.run().id());
        chat.clock.advance(Duration.ofHours(24).plusSeconds(1));

        // when
        SendReceipt later = chat.service.send(keyed(thread, "hello", "key-1"));

        // then
        assertThat(later.replayed()).isFalse();
        assertThat(later.run().id()).isNotEqualTo(original.run().id());
        chat.awaitEnd(later.run().id());
    }

    @Test
    void should_scope_keys_per_user_and_per_thread() {
        // given
        ChatThread first = chat.newThread(ALICE);
        ChatThread second = chat.newThread(ALICE);
        ChatThread bobs = chat.newThread(BOB);
        SendReceipt original = chat.service.send(keyed(first, "hello", "key-1"));
        chat.awaitEnd(original.run().id());

        // when
        SendReceipt otherThread = chat.service.send(keyed(second, "hello", "key-1"));
        SendReceipt otherUser = chat.service.send(SendMessageCommand.text(BOB, bobs.id(), "hello").withIdempotencyKey("key-1"));

        // then
        assertThat(otherThread.replayed()).isFalse();
        assertThat(otherUser.replayed()).isFalse();
        assertThat(otherThread.run().id()).isNotEqualTo(original.run().id());
        chat.awaitEnd(otherThread.run().id());
    }

    @Test
    void should_replay_instead_of_rejecting_when_a_retry_arrives_while_the_original_run_is_active() throws Exception {
        // given a run that is still going
        chat.close();
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("slow").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt original = chat.service.send(keyed(thread, "hello", "key-1"));
        assertThat(model.awaitBlocked(ChatHarness.WAIT)).isTrue();

        // when
        SendReceipt retry = chat.service.send(keyed(thread, "hello", "key-1"));

        // then
        assertThat(retry.replayed()).isTrue();
        assertThat(retry.run().id()).isEqualTo(original.run().id());
        model.release();
        chat.awaitEnd(original.run().id());
    }
}
