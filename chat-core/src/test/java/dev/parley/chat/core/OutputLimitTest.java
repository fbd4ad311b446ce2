package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An answer the model stops at the run's output token limit: the run completes, and the answer is
 * kept as the model gave it, marked cut short (an {@code incomplete} message, a done event whose
 * finish reason is {@code length}), so a client can tell it from an answer the model finished.
 */
class OutputLimitTest {
    private final ScriptedChatModel model = ScriptedChatModel.builder().build();
    private final ChatHarness chat = ChatHarness.of(model);

    @AfterEach
    void close() {
        chat.close();
    }

    private SendReceipt ask(String text) {
        return chat.service.send(SendMessageCommand.newThread(ChatHarness.ALICE, text).withModelSettings(new ModelSettings(null, 3, null)));
    }

    @Test
    void should_keep_an_answer_cut_at_the_output_token_limit_as_incomplete_and_say_why_in_the_done_event() {
        // given
        model.enqueue(Script.tokens("1 ", "2 ", "3").withFinishReason("length"));

        // when
        SendReceipt sent = ask("count to 10");
        RunOutcome outcome = chat.awaitEnd(sent.run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.assistantMessage().status()).isEqualTo(MessageStatus.INCOMPLETE);
        assertThat(outcome.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(outcome.assistantMessage().text()).isEqualTo("1 2 3");
        assertThat(chat.store.messages().find(outcome.assistantMessage().id()).orElseThrow().status()).isEqualTo(MessageStatus.INCOMPLETE);
        List<RunEvent> events = chat.events(sent.run().id());
        assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(RunEvent.Done.class,
                done -> assertThat(done.finishReason()).isEqualTo(FinishReason.LENGTH));
    }

    @Test
    void should_keep_an_answer_the_model_finished_as_completed() {
        // given
        model.enqueue(Script.tokens("1 ", "2").withFinishReason("stop"));

        // when
        SendReceipt sent = ask("count to 2");
        RunOutcome outcome = chat.awaitEnd(sent.run().id());

        // then
        assertThat(outcome.assistantMessage().status()).isEqualTo(MessageStatus.COMPLETED);
        assertThat(outcome.finishReason()).isEqualTo(FinishReason.STOP);
        List<RunEvent> events = chat.events(sent.run().id());
        assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(RunEvent.Done.class,
                done -> assertThat(done.finishReason()).isEqualTo(FinishReason.STOP));
    }
}
