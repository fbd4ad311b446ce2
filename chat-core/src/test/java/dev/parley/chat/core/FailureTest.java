package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatModel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FailureTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    @Test
    void should_fail_the_run_and_keep_the_user_message_and_partial_text_when_the_model_fails() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.builder()
                .failAfterTokens("model_upstream", "The model server answered 502", "Half an", " answer").build());
        ChatThread thread = chat.newThread(ALICE);

        // when
        SendReceipt sent = chat.send(thread.id(), "question");
        RunOutcome outcome = chat.awaitEnd(sent.run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_upstream");
        assertThat(outcome.run().error().message()).isEqualTo("The model server answered 502");
        assertThat(outcome.run().completedAt()).isNotNull();
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::text).containsExactly("question", "Half an answer");
        assertThat(history.get(1).status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(outcome.assistantMessage().id()).isEqualTo(history.get(1).id());
        assertThat(outcome.steps()).singleElement().satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.FAILED));
        Events.assertUsageAddsUp(outcome);

        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "token", "error");
        assertThat(Events.last(events)).isInstanceOfSatisfying(RunEvent.Error.class, e -> {
            assertThat(e.code()).isEqualTo("model_upstream");
            assertThat(e.message()).isEqualTo("The model server answered 502");
        });
    }

    @Test
    void should_keep_only_the_user_message_when_the_model_fails_before_any_text() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.builder().fail("model_auth", "The model rejected the API key").build());
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "question").run().id());

        // then
        assertThat(outcome.run().error().code()).isEqualTo("model_auth");
        assertThat(outcome.assistantMessage()).isNull();
        assertThat(chat.history(thread.id())).extracting(Message::role).containsExactly(Role.USER);
    }

    @Test
    void should_report_internal_error_without_details_when_something_unexpected_breaks() {
        // given
        ChatModel broken = (request, listener, cancellation) -> {
            throw new IllegalStateException("NullPointerException at com.example.Secret line 42");
        };
        chat = ChatHarness.of(broken);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "question").run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("internal_error");
        assertThat(outcome.run().error().message()).isEqualTo("internal error");
        assertThat(Events.last(chat.events(outcome.run().id()))).isInstanceOfSatisfying(RunEvent.Error.class, e -> {
            assertThat(e.code()).isEqualTo("internal_error");
            assertThat(e.message()).isEqualTo("internal error");
        });
        assertThat(chat.history(thread.id())).extracting(Message::text).containsExactly("question");
    }

    @Test
    void should_publish_unavailable_and_still_end_the_run_when_the_store_fails_mid_run() {
        // given a store that loses its database while the model answers
        FlakyStore store = new FlakyStore(InMemoryAdapters.store());
        ChatModel model = (request, listener, cancellation) -> {
            store.failAssistantAppends();
            return ScriptedChatModel.replying("an answer that cannot be stored").complete(request, listener, cancellation);
        };
        chat = ChatHarness.custom(store, model, List.of(ChatHarness.agent(null)), b -> b);
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "question").run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("unavailable");
        List<RunEvent> events = chat.events(outcome.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.last(events)).isInstanceOfSatisfying(RunEvent.Error.class,
                e -> assertThat(e.code()).isEqualTo("unavailable"));
        assertThat(chat.history(thread.id())).extracting(Message::text).containsExactly("question");
    }

    @Test
    void should_let_the_next_message_run_after_a_failed_run() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.builder().fail("model_timeout", "The model did not answer in time")
                .reply("recovered").build());
        ChatThread thread = chat.newThread(ALICE);
        chat.awaitEnd(chat.send(thread.id(), "first").run().id());

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "second").run().id());

        // then
        assertThat(outcome.responseText()).isEqualTo("recovered");
    }

    @Test
    void should_strip_control_characters_and_cap_model_error_messages() {
        // when
        String sanitized = RunMessages.sanitize("bad\u0000thing\nhappened" + "x".repeat(1000), "fallback");

        // then
        assertThat(sanitized).doesNotContain("\u0000", "\n").startsWith("bad thing happened");
        assertThat(sanitized.codePointCount(0, sanitized.length())).isLessThanOrEqualTo(300);
        assertThat(RunMessages.sanitize(null, "fallback")).isEqualTo("fallback");
    }
}
