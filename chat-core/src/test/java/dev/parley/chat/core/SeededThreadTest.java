package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Role;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SeedMessage;
import dev.parley.chat.port.in.SendReceipt;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SeededThreadTest {
    private final ScriptedChatModel model = ScriptedChatModel.echo();
    private final ChatHarness chat = ChatHarness.of(model);

    @AfterEach
    void close() {
        chat.close();
    }

    private ChatThread seeded(SeedMessage... messages) {
        return chat.service.createThread(new CreateThreadCommand(ALICE, null, null, null).withMessages(List.of(messages)));
    }

    @Test
    void should_store_the_seeded_messages_in_order_as_the_threads_history() {
        // when
        ChatThread thread = seeded(SeedMessage.user("What is 2+2?"), SeedMessage.assistant("4."),
                new SeedMessage(Role.USER, List.of(ContentPart.text("And this?"), ContentPart.imageUrl("https://example.com/a.png"))));

        // then
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.USER);
        assertThat(history).extracting(Message::text).containsExactly("What is 2+2?", "4.", "And this?");
        assertThat(history.get(2).content()).hasSize(2);
        assertThat(history).allSatisfy(m -> assertThat(m.runId()).isNull());
        assertThat(thread.title()).isEqualTo("What is 2+2?");
        assertThat(chat.store.runs().active(thread.id())).isEmpty();
    }

    @Test
    void should_give_the_first_run_the_seeded_messages_as_its_history() {
        // given
        ChatThread thread = seeded(SeedMessage.user("My name is Ada."), SeedMessage.assistant("Hello Ada."));

        // when
        SendReceipt sent = chat.send(thread.id(), "What is my name?");
        chat.awaitEnd(sent.run().id());

        // then the model saw the seeded turns before the new question
        List<Message> seen = model.lastRequest().messages().stream().filter(m -> m.role() != Role.SYSTEM).toList();
        assertThat(seen).extracting(Message::text).containsExactly("My name is Ada.", "Hello Ada.", "What is my name?");
        assertThat(chat.history(thread.id())).hasSize(4);
    }

    @Test
    void should_keep_a_title_given_with_the_seeded_messages() {
        ChatThread thread = chat.service.createThread(new CreateThreadCommand(ALICE, null, "Imported", null)
                .withMessages(List.of(SeedMessage.user("first question"))));

        assertThat(thread.title()).isEqualTo("Imported");
    }

    @Test
    void should_refuse_bad_seeded_messages_naming_each_and_store_nothing() {
        // when / then
        assertThatThrownBy(() -> seeded(SeedMessage.user("fine"), SeedMessage.user("a\u0000b"),
                new SeedMessage(Role.ASSISTANT, List.of(ContentPart.imageUrl("https://example.com/a.png"))),
                new SeedMessage(Role.USER, List.of())))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo("validation_failed");
                    assertThat(e.errors()).extracting(FieldError::field)
                            .containsExactly("messages[1].content", "messages[2].content", "messages[3].content");
                });
        assertThat(chat.service.listThreads(ALICE, null, null).items()).isEmpty();
    }

    @Test
    void should_refuse_more_seeded_messages_than_the_limit() {
        List<SeedMessage> many = new ArrayList<>();
        for (int i = 0; i <= RequestValidator.MAX_SEED_MESSAGES; i++) {
            many.add(SeedMessage.user("m" + i));
        }

        assertThatThrownBy(() -> chat.service.createThread(new CreateThreadCommand(ALICE, null, null, null).withMessages(many)))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("messages"));
    }

    @Test
    void should_keep_seeded_messages_to_their_owner() {
        ChatThread thread = seeded(SeedMessage.user("private"));

        assertThatThrownBy(() -> chat.service.listMessages(BOB, thread.id(), null, null)).isInstanceOf(NotFoundException.class);
    }

    @Test
    void should_refuse_a_seeded_message_of_another_role() {
        assertThatThrownBy(() -> new SeedMessage(Role.SYSTEM, List.of(ContentPart.text("be terse"))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
