package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ModelRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConversationTreeTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    private ChatThread threadWithTwoTurns(ScriptedChatModel model) {
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(thread.id(), "q1").run().id());
        chat.awaitEnd(chat.send(thread.id(), "q2").run().id());
        return thread;
    }

    private static List<String> texts(List<Message> messages) {
        return messages.stream().map(Message::text).toList();
    }

    private static List<String> texts(ModelRequest request) {
        return request.messages().stream().filter(m -> m.role() != Role.SYSTEM).map(Message::text).toList();
    }

    @Test
    void should_answer_an_edited_question_on_a_new_branch_and_keep_the_old_one_reachable() {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("a1", "a2", "a2 for the edit");
        ChatThread thread = threadWithTwoTurns(model);
        Message q2 = chat.history(thread.id()).get(2);

        // when
        SendReceipt edit = chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), q2.id(), "q2 edited"));
        chat.awaitEnd(edit.run().id());

        // then: the model saw the edit in place of the question, history follows the new branch
        assertThat(texts(model.lastRequest())).containsExactly("q1", "a1", "q2 edited");
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2 edited", "a2 for the edit");
        assertThat(edit.userMessage().parentId()).isEqualTo(q2.parentId());
        assertThat(edit.userMessage().runId()).isEqualTo(edit.run().id());
        assertThat(chat.service.listVersions(ALICE, thread.id(), edit.userMessage().id(), null).items())
                .extracting(Message::text).containsExactly("q2", "q2 edited");

        // and when: the first version is activated again
        chat.service.activateMessage(ALICE, thread.id(), q2.id());

        // then
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2", "a2");
        assertThat(chat.service.getMessage(ALICE, thread.id(), edit.userMessage().id()).versions())
                .isEqualTo(new Message.Versions(2, 2));
    }

    @Test
    void should_regenerate_an_answer_twice_into_three_versions_the_model_seeing_only_the_question() {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("a1", "a2", "a2 again", "a2 third");
        ChatThread thread = threadWithTwoTurns(model);
        Message a2 = chat.history(thread.id()).get(3);

        // when
        SendReceipt second = chat.service.regenerate(RegenerateCommand.of(ALICE, thread.id(), a2.id()));
        chat.awaitEnd(second.run().id());
        Message a2again = chat.history(thread.id()).get(3);
        SendReceipt third = chat.service.regenerate(RegenerateCommand.of(ALICE, thread.id(), a2again.id()));
        chat.awaitEnd(third.run().id());

        // then
        assertThat(texts(model.lastRequest())).containsExactly("q1", "a1", "q2");
        assertThat(second.userMessage().text()).isEqualTo("q2");
        assertThat(second.run().userMessageId()).isEqualTo(a2.parentId());
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2", "a2 third");
        assertThat(chat.service.listVersions(ALICE, thread.id(), a2.id(), PageRequest.first(10)).items())
                .extracting(Message::text).containsExactly("a2", "a2 again", "a2 third");
        assertThat(chat.history(thread.id()).get(3).versions()).isEqualTo(new Message.Versions(3, 3));
        // runs of older branches stay readable
        assertThat(chat.storedRun(a2.runId()).status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void should_refuse_to_edit_an_answer_or_regenerate_a_question_as_not_editable() {
        ChatThread thread = threadWithTwoTurns(ScriptedChatModel.replying("a1", "a2"));
        List<Message> history = chat.history(thread.id());

        assertThatThrownBy(() -> chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), history.get(1).id(), "x")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.code()).isEqualTo("not_editable"));
        assertThatThrownBy(() -> chat.service.regenerate(RegenerateCommand.of(ALICE, thread.id(), history.get(0).id())))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.code()).isEqualTo("not_editable"));
        assertThat(chat.store.messages().count(thread.id())).isEqualTo(4);
    }

    @Test
    void should_answer_a_message_of_another_thread_or_user_as_missing() {
        ChatThread thread = threadWithTwoTurns(ScriptedChatModel.replying("a1", "a2"));
        ChatThread other = chat.newThread(ALICE);
        MessageId q1 = chat.history(thread.id()).get(0).id();

        assertThatThrownBy(() -> chat.service.getMessage(ALICE, other.id(), q1))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("message_not_found"));
        assertThatThrownBy(() -> chat.service.edit(EditMessageCommand.text(ALICE, other.id(), q1, "x")))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("message_not_found"));
        assertThatThrownBy(() -> chat.service.deleteMessage(ALICE, other.id(), q1))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("message_not_found"));
        assertThatThrownBy(() -> chat.service.getMessage(BOB, thread.id(), q1))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("thread_not_found"));
        assertThatThrownBy(() -> chat.service.regenerate(RegenerateCommand.of(BOB, thread.id(), q1)))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("thread_not_found"));
        assertThatThrownBy(() -> chat.service.activateMessage(BOB, thread.id(), q1))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("thread_not_found"));
    }

    @Test
    void should_refuse_activate_delete_and_a_default_edit_during_a_run_and_interrupt_when_asked() throws Exception {
        // given: a run blocked in its model call
        ScriptedChatModel model = ScriptedChatModel.builder().reply("a1").tokensThenBlock("partial").reply("a2'").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(thread.id(), "q1").run().id());
        SendReceipt busy = chat.send(thread.id(), "q2");
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        MessageId q1 = chat.history(thread.id()).get(0).id();

        // when / then
        for (Runnable refused : List.<Runnable>of(
                () -> chat.service.activateMessage(ALICE, thread.id(), q1),
                () -> chat.service.deleteMessage(ALICE, thread.id(), busy.userMessage().id()),
                () -> chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), busy.userMessage().id(), "q2'")))) {
            assertThatThrownBy(refused::run).isInstanceOfSatisfying(ConflictException.class,
                    e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS));
        }
        // and when: the edit interrupts
        SendReceipt edit = chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), busy.userMessage().id(), "q2'")
                .withBusyPolicy(BusyPolicy.INTERRUPT));
        chat.awaitEnd(edit.run().id());

        // then: the cancelled run's partial answer stays on the old branch
        assertThat(chat.storedRun(busy.run().id()).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2'", "a2'");
        chat.service.activateMessage(ALICE, thread.id(), busy.userMessage().id());
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2", "partial");
    }

    @Test
    void should_delete_a_subtree_and_continue_the_conversation_from_its_parent() {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("a1", "a2", "a3");
        ChatThread thread = threadWithTwoTurns(model);
        Message q2 = chat.history(thread.id()).get(2);

        // when
        chat.service.deleteMessage(ALICE, thread.id(), q2.id());
        SendReceipt next = chat.send(thread.id(), "q3");
        chat.awaitEnd(next.run().id());

        // then
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q3", "a3");
        assertThat(texts(model.lastRequest())).containsExactly("q1", "a1", "q3");
        assertThatThrownBy(() -> chat.service.getMessage(ALICE, thread.id(), q2.id())).isInstanceOf(ChatException.class);
    }

    @Test
    void should_store_the_thinking_and_the_usage_of_the_turn_with_its_answer() {
        ScriptedChatModel model = ScriptedChatModel.builder()
                .turn(ScriptedChatModel.Script.thinking("Let me think.").thenReply("42").withUsage(11, 5)).build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);

        chat.awaitEnd(chat.send(thread.id(), "question").run().id());

        Message answer = chat.history(thread.id()).get(1);
        assertThat(answer.thinking()).isEqualTo("Let me think.");
        assertThat(answer.usage()).isEqualTo(Usage.reported(11, 5));
        assertThat(chat.history(thread.id()).get(0).usage()).isNull();
    }

    @Test
    void should_replay_an_edit_with_the_same_key_and_refuse_the_key_for_another_edit() {
        ChatThread thread = threadWithTwoTurns(ScriptedChatModel.replying("a1", "a2", "a2'"));
        List<Message> history = chat.history(thread.id());
        EditMessageCommand edit = EditMessageCommand.text(ALICE, thread.id(), history.get(2).id(), "q2'").withIdempotencyKey("k1");

        SendReceipt first = chat.service.edit(edit);
        chat.awaitEnd(first.run().id());
        SendReceipt again = chat.service.edit(edit);

        assertThat(again.replayed()).isTrue();
        assertThat(again.run().id()).isEqualTo(first.run().id());
        assertThatThrownBy(() -> chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), history.get(0).id(), "q2'")
                .withIdempotencyKey("k1")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.code()).isEqualTo("idempotency_key_reused"));
        assertThat(chat.store.messages().count(thread.id())).isEqualTo(6);
    }

    @Test
    void should_let_one_of_two_concurrent_edits_win_and_refuse_the_other() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().reply("a1").tokensThenBlock("slow").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(thread.id(), "q1").run().id());
        MessageId q1 = chat.history(thread.id()).get(0).id();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Object>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String text = "edit " + i;
                results.add(pool.submit(() -> {
                    go.await();
                    try {
                        return chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), q1, text));
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }

            // when
            go.countDown();
            List<Object> outcomes = new ArrayList<>();
            for (Future<Object> f : results) {
                outcomes.add(f.get(10, TimeUnit.SECONDS));
            }

            // then
            assertThat(outcomes).filteredOn(o -> o instanceof SendReceipt).hasSize(1);
            assertThat(outcomes).filteredOn(o -> o instanceof ConflictException c
                    && c.reason() == ConflictException.Reason.RUN_IN_PROGRESS).hasSize(1);
            assertThat(chat.service.listVersions(ALICE, thread.id(), q1, null).items()).hasSize(2);
        } finally {
            pool.shutdownNow();
            model.release();
        }
    }

    @Test
    void should_replace_a_messages_metadata_only() {
        ChatThread thread = threadWithTwoTurns(ScriptedChatModel.replying("a1", "a2"));
        Message q1 = chat.history(thread.id()).get(0);

        Message updated = chat.service.updateMessage(ALICE, thread.id(), q1.id(), Map.of("pinned", "true"));

        assertThat(updated.metadata()).containsEntry("pinned", "true");
        assertThat(updated.text()).isEqualTo("q1");
        assertThat(chat.service.getMessage(ALICE, thread.id(), q1.id()).metadata()).containsEntry("pinned", "true");
    }
}
