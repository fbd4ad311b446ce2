package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.UpdateThreadCommand;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ValidationTest {
    private static final int LIMIT = 10;
    private ChatHarness chat;
    private ChatThread thread;

    @BeforeEach
    void setUp() {
        chat = ChatHarness.custom(InMemoryAdapters.store(), ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.maxMessageCodePoints(LIMIT));
        thread = chat.newThread(ALICE);
    }

    @AfterEach
    void tearDown() {
        chat.close();
    }

    private void sendParts(ContentPart... parts) {
        chat.service.send(new SendMessageCommand(ALICE, thread.id(), null, List.of(parts), null, null, null));
    }

    private static void assertRejected(ThrowingCallable call, String field) {
        assertThatThrownBy(call).isInstanceOfSatisfying(InvalidRequestException.class, e -> {
            assertThat(e.code()).isEqualTo("validation_failed");
            assertThat(e.errors()).extracting(FieldError::field).contains(field);
        });
    }

    @Test
    void should_reject_a_message_containing_nul() {
        assertRejected(() -> chat.send(thread.id(), "a\u0000b"), "message");
    }

    @Test
    void should_reject_a_message_with_a_lone_surrogate() {
        assertRejected(() -> chat.send(thread.id(), "bad \uD83D end"), "message");
        assertRejected(() -> chat.send(thread.id(), "\uDE00"), "message");
    }

    @Test
    void should_reject_an_empty_or_blank_message() {
        assertRejected(() -> chat.send(thread.id(), ""), "message");
        assertRejected(() -> chat.send(thread.id(), "   \n"), "message");
        assertRejected(this::sendParts, "message");
    }

    @Test
    void should_count_the_limit_in_code_points() {
        // ten emoji are twenty UTF-16 chars but ten code points
        assertThatCode(() -> chat.awaitEnd(chat.send(thread.id(), "\uD83D\uDE00".repeat(LIMIT)).run().id()))
                .doesNotThrowAnyException();
        assertRejected(() -> chat.send(thread.id(), "\uD83D\uDE00".repeat(LIMIT + 1)), "message");
        assertRejected(() -> chat.send(thread.id(), "x".repeat(LIMIT + 1)), "message");
    }

    @Test
    void should_count_the_limit_over_all_text_parts() {
        assertRejected(() -> sendParts(ContentPart.text("x".repeat(6)), ContentPart.text("y".repeat(6))), "message");
    }

    @Test
    void should_accept_only_http_and_data_image_urls() {
        assertRejected(() -> sendParts(ContentPart.imageUrl("ftp://example.com/a.png")), "message");
        assertRejected(() -> sendParts(ContentPart.imageUrl("file:///etc/passwd")), "message");
        assertRejected(() -> sendParts(ContentPart.imageUrl("javascript:alert(1)")), "message");
        assertThatCode(() -> chat.awaitEnd(chat.service.send(new SendMessageCommand(ALICE, thread.id(), null,
                List.of(ContentPart.text("see"), ContentPart.imageUrl("data:image/png;base64,iVBORw0KGgo=")),
                null, null, null)).run().id())).doesNotThrowAnyException();
    }

    @Test
    void should_store_nothing_when_a_message_is_invalid() {
        // when
        assertRejected(() -> chat.send(thread.id(), "a\u0000b"), "message");

        // then
        assertThat(chat.history(thread.id())).isEmpty();
    }

    @Test
    void should_limit_titles_to_200_code_points() {
        assertRejected(() -> chat.service.createThread(new CreateThreadCommand(ALICE, null, "t".repeat(201), null)), "title");
        assertRejected(() -> chat.service.updateThread(new UpdateThreadCommand(ALICE, thread.id(),
                Optional.of("t".repeat(201)), Optional.empty())), "title");
        assertThat(chat.service.createThread(new CreateThreadCommand(ALICE, null, "\uD83D\uDE00".repeat(200), null)).title())
                .hasSize(400);
    }

    @Test
    void should_limit_metadata_to_16_keys_of_64_and_values_of_512_characters() {
        Map<String, String> seventeen = new HashMap<>();
        for (int i = 0; i < 17; i++) {
            seventeen.put("k" + i, "v");
        }
        assertRejected(() -> chat.service.createThread(new CreateThreadCommand(ALICE, null, null, seventeen)), "metadata");
        assertRejected(() -> chat.service.createThread(new CreateThreadCommand(ALICE, null, null,
                Map.of("k".repeat(65), "v"))), "metadata");
        assertRejected(() -> chat.service.createThread(new CreateThreadCommand(ALICE, null, null,
                Map.of("k", "v".repeat(513)))), "metadata");
        assertRejected(() -> chat.service.send(new SendMessageCommand(ALICE, thread.id(), null,
                List.of(ContentPart.text("hi")), null, null, Map.of("k", "v".repeat(513)))), "metadata");
        assertThat(chat.service.createThread(new CreateThreadCommand(ALICE, null, null,
                Map.of("k".repeat(64), "v".repeat(512)))).metadata()).hasSize(1);
    }

    @Test
    void should_report_every_invalid_field_at_once() {
        assertThatThrownBy(() -> chat.service.createThread(new CreateThreadCommand(ALICE, null, "t".repeat(201),
                Map.of("k", "v".repeat(513)))))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("title", "metadata"));
    }
}
