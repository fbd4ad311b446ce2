package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ModelRequest;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Edits and regenerates with {@code if_busy: enqueue}: they wait behind the thread's active run,
 * which goes on writing to the active path, and make their own branch active when they start.
 */
class QueuedTreeSendTest {
    private ChatHarness chat;
    private ScriptedChatModel model;
    private ChatThread thread;
    private SendReceipt busy;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    /** q1 a1 answered; q2 sent, its run blocked in its model call until {@link ScriptedChatModel#release()}. */
    private void givenARunStillAnswering(String... laterReplies) throws InterruptedException {
        ScriptedChatModel.Builder builder = ScriptedChatModel.builder().reply("a1").turn(Script.tokens("a2").thenBlock());
        for (String reply : laterReplies) {
            builder.reply(reply);
        }
        model = builder.build();
        chat = ChatHarness.of(model);
        thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(thread.id(), "q1").run().id());
        busy = chat.send(thread.id(), "q2");
        assertThat(model.awaitBlocked(WAIT)).isTrue();
    }

    private Message q1() {
        return chat.history(thread.id()).get(0);
    }

    private static List<String> texts(List<Message> messages) {
        return messages.stream().map(Message::text).toList();
    }

    private static List<String> texts(ModelRequest request) {
        return request.messages().stream().filter(m -> m.role() != Role.SYSTEM).map(Message::text).toList();
    }

    @Test
    void should_answer_a_queued_edit_on_its_own_branch_once_the_active_run_has_answered_on_the_old_one() throws Exception {
        // given
        givenARunStillAnswering("a1 for the edit");
        Message q1 = q1();

        // when: q1 is edited while q2's run still answers
        SendReceipt edit = chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), q1.id(), "q1 edited")
                .withBusyPolicy(BusyPolicy.ENQUEUE));

        // then: the edit waits beside q1, and the active path is the running run's until it ends
        assertThat(edit.run().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(edit.userMessage().parentId()).isNull();
        assertThat(edit.userMessage().versions()).isEqualTo(new Message.Versions(2, 2));
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2");

        // and when the running run ends
        model.release();
        chat.awaitEnd(busy.run().id());
        chat.awaitEnd(edit.run().id());

        // then: a2 answered q2 on the old branch, and the edit was answered on its own
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1 edited", "a1 for the edit");
        assertThat(texts(model.lastRequest())).containsExactly("q1 edited");
        chat.service.activateMessage(ALICE, thread.id(), q1.id());
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2", "a2");
    }

    @Test
    void should_answer_a_queued_regenerate_again_below_its_question_after_the_active_run() throws Exception {
        // given
        givenARunStillAnswering("a1, again");
        Message a1 = chat.history(thread.id()).get(1);

        // when
        SendReceipt regenerate = chat.service.regenerate(RegenerateCommand.of(ALICE, thread.id(), a1.id())
                .withBusyPolicy(BusyPolicy.ENQUEUE));

        // then: nothing moves until the running run ends
        assertThat(regenerate.run().status()).isEqualTo(RunStatus.QUEUED);
        assertThat(regenerate.userMessage().id()).isEqualTo(q1().id());
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2");
        model.release();
        chat.awaitEnd(busy.run().id());
        chat.awaitEnd(regenerate.run().id());

        // then: the new answer is a version of a1; the old branch kept q2 and its answer
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1, again");
        assertThat(texts(model.lastRequest())).containsExactly("q1");
        assertThat(chat.service.listVersions(ALICE, thread.id(), a1.id(), null).items()).extracting(Message::text)
                .containsExactly("a1", "a1, again");
        chat.service.activateMessage(ALICE, thread.id(), a1.id());
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2", "a2");
    }

    @Test
    void should_answer_a_message_queued_behind_a_queued_edit_on_the_branch_it_was_asked_on() throws Exception {
        // given
        givenARunStillAnswering("a1 for the edit", "a3");
        Message q1 = q1();

        // when: an edit of q1 is queued, then a plain message
        SendReceipt edit = chat.service.edit(EditMessageCommand.text(ALICE, thread.id(), q1.id(), "q1 edited")
                .withBusyPolicy(BusyPolicy.ENQUEUE));
        SendReceipt q3 = chat.send(thread.id(), "q3", BusyPolicy.ENQUEUE);
        model.release();
        chat.awaitEnd(busy.run().id());
        chat.awaitEnd(edit.run().id());
        chat.awaitEnd(q3.run().id());

        // then: the runs answered in order; q3 was asked after q2 on the old branch and is answered there,
        // which is the active path again; the edit's branch stays a version of q1
        assertThat(texts(model.requests().get(2))).containsExactly("q1 edited");
        assertThat(texts(model.lastRequest())).containsExactly("q1", "a1", "q2", "a2", "q3");
        assertThat(texts(chat.history(thread.id()))).containsExactly("q1", "a1", "q2", "q3", "a2", "a3");
        assertThat(chat.service.listVersions(ALICE, thread.id(), q1.id(), null).items()).extracting(Message::text)
                .containsExactly("q1", "q1 edited");
    }

    @Test
    void should_replay_a_queued_edit_sent_again_with_its_key() throws Exception {
        // given
        givenARunStillAnswering("a1 for the edit");
        EditMessageCommand edit = EditMessageCommand.text(ALICE, thread.id(), q1().id(), "q1 edited")
                .withBusyPolicy(BusyPolicy.ENQUEUE).withIdempotencyKey("edit-1");

        // when
        SendReceipt first = chat.service.edit(edit);
        SendReceipt again = chat.service.edit(edit);

        // then
        assertThat(again.replayed()).isTrue();
        assertThat(again.run().id()).isEqualTo(first.run().id());
        model.release();
        chat.awaitEnd(first.run().id());
        assertThat(chat.store.messages().count(thread.id())).isEqualTo(6);
    }
}
