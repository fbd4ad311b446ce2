package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.port.in.RunStream;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The demo model, tools and agents driven through the real run engine. */
class DemoAgentsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T10:30:00Z"), ZoneOffset.UTC);

    private final ChatStore store = InMemoryAdapters.store();
    private final ChatService chat = ChatService.builder()
            .store(store)
            .model(new DemoChatModel(Duration.ofMillis(1)))
            .agents(DemoAgents.agents(null, CLOCK))
            .defaultAgent(DemoAgents.ASSISTANT)
            .prices(DemoAgents.prices())
            .build();

    @AfterEach
    void close() {
        chat.close();
    }

    private RunOutcome ask(String agent, String text) throws InterruptedException {
        ThreadId thread = chat.createThread(new CreateThreadCommand("alice", agent, null, null)).id();
        SendReceipt receipt = chat.send(SendMessageCommand.text("alice", thread, text));
        return chat.await("alice", receipt.run().id(), TIMEOUT);
    }

    @Test
    void should_list_the_assistant_with_its_tools_first_and_the_terse_agent_without_tools() {
        assertThat(chat.defaultAgentId()).isEqualTo("assistant");
        assertThat(chat.agents()).extracting(a -> a.id()).containsExactly("assistant", "terse");
        assertThat(chat.agent("assistant").tools()).extracting(t -> t.name()).containsExactly("calculator", "clock", "refund");
        assertThat(chat.agent("terse").tools()).isEmpty();
    }

    @Test
    void should_calculate_through_the_calculator_tool_and_price_the_run() throws Exception {
        // when
        RunOutcome outcome = ask("assistant", "calculate 6*7");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("6*7 = 42");
        assertThat(outcome.steps()).filteredOn(s -> s.toolCall() != null).singleElement().satisfies(step -> {
            assertThat(step.toolCall().name()).isEqualTo("calculator");
            assertThat(step.toolCall().arguments()).isEqualTo("{\"expression\":\"6*7\"}");
            assertThat(step.status()).isEqualTo(StepStatus.COMPLETED);
            assertThat(step.output()).isEqualTo("42");
        });
        assertThat(outcome.run().usage().totalTokens()).isPositive();
        assertThat(outcome.run().costUsd()).isNotNull().isGreaterThan(BigDecimal.ZERO);
        assertThat(outcome.run().model()).isEqualTo("parley-demo");
    }

    @Test
    void should_say_so_when_the_expression_is_bad() throws Exception {
        // when
        RunOutcome outcome = ask("assistant", "calculate 1/0");

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.steps()).filteredOn(s -> s.toolCall() != null).singleElement()
                .satisfies(step -> assertThat(step.status()).isEqualTo(StepStatus.FAILED));
        assertThat(outcome.responseText()).startsWith("I could not calculate 1/0: Division by zero");
    }

    @Test
    void should_wait_for_approval_of_each_refund_and_say_which_orders_were_refunded() throws Exception {
        // given
        RunOutcome waiting = ask("assistant", "refund A-1, B-2");
        assertThat(waiting.run().status()).isEqualTo(RunStatus.REQUIRES_ACTION);
        assertThat(waiting.pendingApprovals()).extracting(c -> c.arguments())
                .containsExactly("{\"order\":\"A-1\"}", "{\"order\":\"B-2\"}");
        var thread = waiting.run().threadId();
        var run = waiting.run().id();

        // when
        chat.decide(new ApprovalCommand("alice", thread, run, waiting.pendingApprovals().get(0).id(), ApprovalDecision.APPROVE, null));
        chat.decide(new ApprovalCommand("alice", thread, run, waiting.pendingApprovals().get(1).id(), ApprovalDecision.DENY,
                "no receipt"));

        // then
        RunOutcome done = chat.await("alice", run, TIMEOUT);
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.responseText()).isEqualTo(
                "Order A-1 is refunded. I did not refund order B-2: the user denied this tool call: no receipt.");
    }

    @Test
    void should_answer_the_time_from_the_clock_tool() throws Exception {
        RunOutcome outcome = ask("assistant", "What time is it?");
        assertThat(outcome.responseText()).isEqualTo("The current UTC time is 2026-11-22T10:30:00Z.");
    }

    @Test
    void should_not_use_tools_with_the_terse_agent() throws Exception {
        RunOutcome outcome = ask("terse", "calculate 6*7");
        assertThat(outcome.steps()).noneMatch(s -> s.toolCall() != null);
        assertThat(outcome.responseText()).contains("no calculator tool");
    }

    @Test
    void should_fail_the_run_with_model_error_on_slash_fail() throws Exception {
        RunOutcome outcome = ask("assistant", "/fail now");
        assertThat(outcome.run().status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.run().error().code()).isEqualTo("model_error");
    }

    @Test
    void should_cancel_a_long_count_and_keep_the_partial_text() throws Exception {
        // given
        ThreadId thread = chat.createThread(new CreateThreadCommand("alice", null, null, null)).id();
        SendReceipt receipt = chat.send(SendMessageCommand.text("alice", thread, "count to 5000"));
        try (RunStream subscription = chat.subscribe("alice", thread, receipt.run().id(), 0, DisconnectPolicy.CONTINUE)) {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            int tokens = 0;
            while (tokens < 3 && System.nanoTime() < deadline) {
                Optional<RunEvent> event = subscription.next(Duration.ofSeconds(1));
                if (event.isPresent() && event.get() instanceof RunEvent.Token) {
                    tokens++;
                }
            }
            assertThat(tokens).isEqualTo(3);
        }

        // when
        chat.cancelActiveRun("alice", thread);
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(outcome.responseText()).startsWith("1 2 3").doesNotEndWith(" 5000");
    }
}
