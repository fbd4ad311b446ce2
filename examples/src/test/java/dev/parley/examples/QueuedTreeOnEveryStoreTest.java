package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Edits and regenerates queued behind a running answer ({@code if_busy: enqueue}) on every store:
 * the running run keeps the active path, each queued run makes its own branch active as it starts.
 */
class QueuedTreeOnEveryStoreTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String ALICE = "alice";
    private final EveryStore stores = new EveryStore();

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    private ChatService chat(String store, ScriptedChatModel model) {
        ChatStore chatStore = stores.open(store, "queued-tree");
        return stores.track(ChatService.builder().store(chatStore).model(model)
                .agents(List.of(Agent.builder("helper").instructions("Help.").build())).build());
    }

    private static List<String> history(ChatService chat, ChatThread thread) {
        return chat.listMessages(ALICE, thread.id(), new PageRequest(100, null), SortOrder.ASC).items().stream()
                .map(Message::text).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"memory", "h2", "postgres"})
    void should_answer_a_queued_edit_a_queued_regenerate_and_a_queued_message_each_on_its_own_branch(String store)
            throws Exception {
        // given: q1 a1 answered, q2's run blocked in its model call
        ScriptedChatModel model = ScriptedChatModel.builder().reply("a1")
                .turn(ScriptedChatModel.Script.tokens("a2").thenBlock()).reply("a1 for the edit").reply("a3").reply("a1, again")
                .build();
        ChatService chat = chat(store, model);
        ChatThread thread = chat.createThread(new CreateThreadCommand(ALICE, null, null, null));
        chat.await(ALICE, chat.send(SendMessageCommand.text(ALICE, thread.id(), "q1")).run().id(), WAIT);
        List<Message> first = chat.listMessages(ALICE, thread.id(), new PageRequest(10, null), SortOrder.ASC).items();
        SendReceipt busy = chat.send(SendMessageCommand.text(ALICE, thread.id(), "q2"));
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when: an edit of q1, a plain message and a regenerate of a1 queue up behind it
        SendReceipt edit = chat.edit(EditMessageCommand.text(ALICE, thread.id(), first.get(0).id(), "q1 edited")
                .withBusyPolicy(BusyPolicy.ENQUEUE));
        SendReceipt q3 = chat.send(SendMessageCommand.text(ALICE, thread.id(), "q3").withBusyPolicy(BusyPolicy.ENQUEUE));
        SendReceipt regenerate = chat.regenerate(RegenerateCommand.of(ALICE, thread.id(), first.get(1).id())
                .withBusyPolicy(BusyPolicy.ENQUEUE));

        // then: all wait, and the active path is the running run's
        assertThat(List.of(edit, q3, regenerate)).allSatisfy(r -> assertThat(r.run().status()).isEqualTo(RunStatus.QUEUED));
        assertThat(history(chat, thread)).containsExactly("q1", "a1", "q2", "q3");

        // and when the running run ends, the others run in order
        model.release();
        for (SendReceipt r : List.of(busy, edit, q3, regenerate)) {
            assertThat(chat.await(ALICE, r.run().id(), WAIT).run().status()).isEqualTo(RunStatus.COMPLETED);
        }

        // then: the regenerate ran last, so its branch is active; the others are where they were asked
        assertThat(history(chat, thread)).containsExactly("q1", "a1, again");
        assertThat(chat.listVersions(ALICE, thread.id(), first.get(1).id(), null).items()).extracting(Message::text)
                .containsExactly("a1", "a1, again");
        chat.activateMessage(ALICE, thread.id(), first.get(1).id());
        assertThat(history(chat, thread)).containsExactly("q1", "a1", "q2", "q3", "a2", "a3");
        chat.activateMessage(ALICE, thread.id(), edit.userMessage().id());
        assertThat(history(chat, thread)).containsExactly("q1 edited", "a1 for the edit");
    }
}
