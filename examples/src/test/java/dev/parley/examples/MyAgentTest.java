package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How to unit-test your own agent: the real {@link ChatService} on the in-memory adapters
 * ({@link InMemoryChat}), and a scripted model playing the model's part. Copy it and put your
 * agent in place of {@link EmbeddingExample#supportAgent()}. No network, no database, no sleeps.
 */
class MyAgentTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @RegisterExtension
    final InMemoryChat parley = InMemoryChat.of(EmbeddingExample.supportAgent());

    @Test
    void should_look_the_order_up_with_the_tool_and_answer_from_its_output() throws Exception {
        // given: the model first calls the tool, then answers
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "order_status", "{\"order_id\":\"A-1001\"}"))
                .reply("Your order arrives on 2026-11-24.")
                .build();
        ChatService chat = parley.start(model);

        // when
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "Where is order A-1001?"));
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);

        // then: the run completed with the model's answer...
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Your order arrives on 2026-11-24.");
        // ...the tool ran once, with the model's arguments, and its output went back to the model
        assertThat(outcome.steps()).filteredOn(step -> step.toolCall() != null).singleElement().satisfies(step -> {
            assertThat(step.status()).isEqualTo(StepStatus.COMPLETED);
            assertThat(step.toolCall().name()).isEqualTo("order_status");
        });
        Message toolResult = model.lastRequest().messages().get(model.lastRequest().messages().size() - 1);
        assertThat(toolResult.role()).isEqualTo(Role.TOOL);
        assertThat(toolResult.text()).contains("shipped on 2026-11-20");
    }

    @Test
    void should_send_the_agents_system_prompt_and_offer_only_its_tool() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("Hello!");
        ChatService chat = parley.start(model);

        // when
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "Hi"));
        chat.await("alice", receipt.run().id(), TIMEOUT);

        // then
        Message first = model.lastRequest().messages().get(0);
        assertThat(first.role()).isEqualTo(Role.SYSTEM);
        assertThat(first.text()).contains("order_status tool");
        assertThat(model.lastRequest().tools()).extracting(spec -> spec.name()).containsExactly("order_status");
    }

    @Test
    void should_tell_the_model_when_the_order_does_not_exist() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "order_status", "{\"order_id\":\"Z-9999\"}"))
                .reply("I cannot find that order.")
                .build();
        ChatService chat = parley.start(model);

        // when
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "Where is Z-9999?"));
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);

        // then: the failed call is recorded, and the model saw the tool's message
        assertThat(outcome.steps()).filteredOn(step -> step.toolCall() != null).singleElement()
                .satisfies(step -> assertThat(step.status()).isEqualTo(StepStatus.FAILED));
        Message toolResult = model.lastRequest().messages().get(model.lastRequest().messages().size() - 1);
        assertThat(toolResult.text()).contains("There is no order Z-9999.");
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
    }

    @Test
    void should_tell_the_model_which_argument_it_forgot() throws Exception {
        // given: the model calls the tool without an order id, then apologizes
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "order_status", "{\"order\":\"A-1001\"}"))
                .reply("Sorry, which order?")
                .build();
        ChatService chat = parley.start(model);

        // when
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "Where is my order?"));
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);

        // then: the call failed with a message naming the argument, and the run went on
        Message toolResult = model.lastRequest().messages().get(model.lastRequest().messages().size() - 1);
        assertThat(toolResult.text()).contains("\"order_id\"");
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Sorry, which order?");
    }

    @Test
    void should_keep_the_whole_exchange_in_the_thread_history() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "order_status", "{\"order_id\":\"B-2002\"}"))
                .reply("It ships tomorrow.")
                .build();
        ChatService chat = parley.start(model);

        // when
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "Status of B-2002?"));
        chat.await("alice", receipt.run().id(), TIMEOUT);

        // then: question, tool call, tool result, answer
        List<Message> history = chat.listMessages("alice", receipt.thread().id(), PageRequest.first(100), SortOrder.ASC).items();
        assertThat(history).extracting(Message::role)
                .containsExactly(Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT);
        assertThat(history.get(3).text()).isEqualTo("It ships tomorrow.");
    }
}
