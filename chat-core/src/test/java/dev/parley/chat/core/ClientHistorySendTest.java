package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SeedMessage;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ModelRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sends from a client that keeps its own history and cannot carry an approval (the OpenAI facade's
 * Chat Completions): the history starts the new thread in the send transaction, and the agent's tools
 * that require approval are not offered to the run, also when it starts later from the queue.
 */
class ClientHistorySendTest {
    private final AtomicInteger refunds = new AtomicInteger();
    private final ScriptedChatModel model = ScriptedChatModel.echo();
    private ChatHarness chat = ChatHarness.of(model);
    private ScriptedChatModel current = model;

    @AfterEach
    void close() {
        chat.close();
    }

    private ChatHarness withTools(ScriptedChatModel scripted) {
        chat.close();
        current = scripted;
        chat = ChatHarness.custom(InMemoryAdapters.store(), scripted, List.of(ChatHarness.agent(AgentLimits.DEFAULT,
                TestTool.named("lookup", ctx -> "found"),
                TestTool.named("refund", ctx -> "refunded #" + refunds.incrementAndGet()).requiringApproval())), b -> b);
        return chat;
    }

    private static SendMessageCommand ask(String text) {
        return SendMessageCommand.newThread(ALICE, text);
    }

    @Test
    void should_store_the_history_before_the_sent_message_and_give_the_run_all_of_it() {
        // when
        SendReceipt sent = chat.service.send(ask("What is my name?").withHistory(List.of(
                SeedMessage.user("My name is Ada."), SeedMessage.assistant("Hello Ada."))));
        chat.awaitEnd(sent.run().id());

        // then the thread holds the history, the question and the answer, in order
        List<Message> history = chat.history(sent.thread().id());
        assertThat(history).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        assertThat(history).extracting(Message::text).startsWith("My name is Ada.", "Hello Ada.", "What is my name?");
        assertThat(history.get(2).runId()).isEqualTo(sent.run().id());
        List<Message> seen = model.lastRequest().messages().stream().filter(m -> m.role() != Role.SYSTEM).toList();
        assertThat(seen).extracting(Message::text).containsExactly("My name is Ada.", "Hello Ada.", "What is my name?");
        assertThat(chat.service.getThread(ALICE, sent.thread().id()).title()).isEqualTo("My name is Ada.");
    }

    @Test
    void should_refuse_bad_history_naming_each_message_and_store_nothing() {
        // when / then
        assertThatThrownBy(() -> chat.service.send(ask("next").withHistory(List.of(SeedMessage.user("fine"),
                SeedMessage.user("a\u0000b"), new SeedMessage(Role.ASSISTANT, List.of(ContentPart.imageUrl("https://example.com/a.png")))))))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.errors()).extracting(FieldError::field)
                        .containsExactly("history[1].content", "history[2].content"));
        assertThat(chat.service.listThreads(ALICE, null, null).items()).isEmpty();
        assertThat(model.callCount()).isZero();
    }

    @Test
    void should_replay_a_retry_with_the_same_history_and_refuse_its_key_with_another_history() {
        // given
        SendMessageCommand first = ask("And now?").withIdempotencyKey("k-1").withHistory(List.of(SeedMessage.user("one")));
        SendReceipt sent = chat.service.send(first);
        chat.awaitEnd(sent.run().id());

        // when
        SendReceipt again = chat.service.send(first);

        // then
        assertThat(again.replayed()).isTrue();
        assertThat(again.run().id()).isEqualTo(sent.run().id());
        assertThat(chat.service.listThreads(ALICE, null, null).items()).hasSize(1);
        assertThatThrownBy(() -> chat.service.send(first.withHistory(List.of(SeedMessage.user("two")))))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("idempotency_key_reused"));
    }

    @Test
    void should_refuse_history_on_a_send_to_an_existing_thread() {
        SendReceipt sent = chat.service.send(ask("hello"));

        assertThatThrownBy(() -> SendMessageCommand.text(ALICE, sent.thread().id(), "again").withHistory(List.of(SeedMessage.user("x"))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_not_offer_the_tools_that_require_approval_when_the_send_withholds_them() {
        // given
        withTools(ScriptedChatModel.echo());

        // when
        SendReceipt withheld = chat.service.send(ask("refund me").withoutApprovalTools());
        chat.awaitEnd(withheld.run().id());
        List<String> offeredWithheld = toolNames(current.lastRequest());
        SendReceipt offered = chat.service.send(ask("refund me"));
        chat.awaitEnd(offered.run().id());

        // then
        assertThat(offeredWithheld).containsExactly("lookup");
        assertThat(toolNames(current.lastRequest())).containsExactly("lookup", "refund");
        assertThat(chat.store.runs().instructions(withheld.run().id())).hasValueSatisfying(i -> assertThat(i.approvalToolsWithheld()).isTrue());
    }

    @Test
    void should_withhold_them_from_a_run_that_starts_later_from_the_queue() throws Exception {
        // given a run that holds the thread, and a withholding run queued behind it
        ScriptedChatModel scripted = ScriptedChatModel.builder().hangUntilCancelled().reply("queued answer").build();
        withTools(scripted);
        SendReceipt first = chat.service.send(ask("first"));
        assertThat(scripted.awaitCalls(1, Duration.ofSeconds(10))).isTrue();
        SendReceipt queued = chat.service.send(SendMessageCommand.text(ALICE, first.thread().id(), "second")
                .withBusyPolicy(BusyPolicy.ENQUEUE).withoutApprovalTools());
        assertThat(queued.run().status()).isEqualTo(RunStatus.QUEUED);

        // when the first run ends and the queued one starts
        chat.service.cancelRun(ALICE, first.thread().id(), first.run().id());
        chat.awaitEnd(queued.run().id());

        // then
        assertThat(toolNames(scripted.lastRequest())).containsExactly("lookup");
    }

    @Test
    void should_not_run_a_withheld_tool_the_model_calls_anyway() {
        // given a model that calls the approval tool it was not offered
        ScriptedChatModel scripted = ScriptedChatModel.builder().callTools(new ToolCall("call_1", "refund", "{}"))
                .reply("could not refund").build();
        withTools(scripted);

        // when
        SendReceipt sent = chat.service.send(ask("refund me").withoutApprovalTools());
        RunOutcome outcome = chat.awaitEnd(sent.run().id());

        // then it ends without waiting for an approval, and nothing was refunded
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(refunds).hasValue(0);
        assertThat(scripted.lastRequest().messages()).anySatisfy(m -> assertThat(m.text()).contains("tool_not_found"));
    }

    private static List<String> toolNames(ModelRequest request) {
        return request.tools().stream().map(ToolSpec::name).toList();
    }
}
