package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A send's own instructions: appended to the agent's for that run only, stored with the run, part of its idempotency. */
class RunOwnInstructionsTest {
    private ChatHarness chat;
    private ScriptedChatModel model;

    @BeforeEach
    void setUp() {
        model = ScriptedChatModel.echo();
        chat = ChatHarness.of(model);
    }

    @AfterEach
    void tearDown() {
        chat.close();
    }

    private String systemPrompt() {
        Message first = model.lastRequest().messages().get(0);
        assertThat(first.role()).isEqualTo(Role.SYSTEM);
        return first.text();
    }

    @Test
    void should_append_a_sends_instructions_to_the_agents_for_that_run_only() {
        // given
        ChatThread thread = chat.newThread(ALICE);

        // when
        SendReceipt own = chat.service.send(SendMessageCommand.text(ALICE, thread.id(), "hello").withInstructions("Answer in French."));
        chat.awaitEnd(own.run().id());

        // then
        assertThat(systemPrompt()).isEqualTo(ChatHarness.SYSTEM_PROMPT + "\n\nAnswer in French.");
        assertThat(chat.service.getRun(ALICE, thread.id(), own.run().id()).instructions().instructions()).endsWith("Answer in French.");
        // and the next run has the agent's alone
        chat.awaitEnd(chat.service.send(SendMessageCommand.text(ALICE, thread.id(), "again")).run().id());
        assertThat(systemPrompt()).isEqualTo(ChatHarness.SYSTEM_PROMPT);
    }

    @Test
    void should_take_other_instructions_under_the_same_idempotency_key_for_a_reused_key() {
        // given
        ChatThread thread = chat.newThread(ALICE);
        SendMessageCommand send = SendMessageCommand.text(ALICE, thread.id(), "hello").withIdempotencyKey("key-1");
        chat.awaitEnd(chat.service.send(send.withInstructions("Be brief.")).run().id());

        // when / then
        assertThat(chat.service.send(send.withInstructions("Be brief.")).replayed()).isTrue();
        assertThatThrownBy(() -> chat.service.send(send.withInstructions("Be long.")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.code()).isEqualTo("idempotency_key_reused"));
        assertThatThrownBy(() -> chat.service.send(send))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.code()).isEqualTo("idempotency_key_reused"));
    }
}
