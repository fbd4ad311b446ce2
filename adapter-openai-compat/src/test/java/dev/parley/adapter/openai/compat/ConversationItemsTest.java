package dev.parley.adapter.openai.compat;

import static dev.parley.adapter.openai.compat.OpenAiJavaClientTest.assertParam;
import static org.assertj.core.api.Assertions.assertThat;

import com.openai.models.conversations.Conversation;
import com.openai.models.conversations.ConversationCreateParams;
import com.openai.models.conversations.items.ConversationItem;
import com.openai.models.conversations.items.ItemListParams;
import com.openai.models.responses.EasyInputMessage;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A conversation created with {@code items}, driven by the official Java SDK. */
class ConversationItemsTest extends CompatClientTest {
    private static EasyInputMessage message(EasyInputMessage.Role role, String text) {
        return EasyInputMessage.builder().role(role).content(text).build();
    }

    @Test
    void should_start_a_conversation_with_its_items_and_answer_with_them_as_history() {
        // given
        server = CompatServer.start(ScriptedChatModel.replying("Your name is Ada."));
        Conversation conversation = alice().conversations().create(ConversationCreateParams.builder()
                .addItem(message(EasyInputMessage.Role.USER, "My name is Ada."))
                .addItem(message(EasyInputMessage.Role.ASSISTANT, "Nice to meet you, Ada."))
                .build());

        // when
        Response answer = alice().responses().create(ResponseCreateParams.builder().model(CompatServer.AGENT)
                .input("What is my name?").conversation(conversation.id()).build());

        // then the items are the conversation's first messages, and the model saw them
        List<ConversationItem> items = alice().conversations().items()
                .list(ItemListParams.builder().conversationId(conversation.id()).order(ItemListParams.Order.ASC).build()).data();
        assertThat(items).hasSize(4);
        assertThat(items).extracting(i -> i.message().orElseThrow().role().toString())
                .containsExactly("user", "assistant", "user", "assistant");
        assertThat(OpenAiJavaClientTest.text(answer)).isEqualTo("Your name is Ada.");
        List<Message> seen = server.model.lastRequest().messages().stream().filter(m -> m.role() != Role.SYSTEM).toList();
        assertThat(seen).extracting(Message::text).containsExactly("My name is Ada.", "Nice to meet you, Ada.", "What is my name?");
    }

    @Test
    void should_refuse_items_it_cannot_store_naming_them() {
        server = CompatServer.start(ScriptedChatModel.echo());

        assertParam(() -> alice().conversations().create(ConversationCreateParams.builder()
                .addItem(message(EasyInputMessage.Role.USER, "fine"))
                .addItem(message(EasyInputMessage.Role.SYSTEM, "be terse")).build()), "items[1].role");
        assertParam(() -> alice().conversations().create(ConversationCreateParams.builder()
                .addItem(message(EasyInputMessage.Role.USER, "fine"))
                .addItem(message(EasyInputMessage.Role.USER, "a\u0000b")).build()), "items[1].content");
        ConversationCreateParams.Builder many = ConversationCreateParams.builder();
        for (int i = 0; i <= Conversations.MAX_ITEMS; i++) {
            many.addItem(message(EasyInputMessage.Role.USER, "m" + i));
        }
        assertParam(() -> alice().conversations().create(many.build()), "items");
        // nothing was stored by the refused requests
        assertThat(server.service.listThreads("alice", null, null).items()).isEmpty();
    }
}
