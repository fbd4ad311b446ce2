package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.parley.adapter.mcp.McpServerConfig;
import dev.parley.adapter.mcp.McpTools;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs whose tools are an MCP server's (server-everything from npm, over stdio), through the real
 * engine: the progress reaches the run as {@code trace_update}, an error result fails the step with
 * the server's message, a cancel ends the run at once, and a server killed mid-call fails the step
 * with a clear error instead of leaving the run stuck.
 */
class McpToolRunsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static McpTools mcp;

    @RegisterExtension
    final InMemoryChat parley = InMemoryChat.of(agent());

    private static Agent agent() {
        start();
        return Agent.builder("mcp").tools(mcp.tools()).build();
    }

    private static synchronized void start() {
        if (mcp != null) {
            return;
        }
        Path script = Path.of(System.getProperty("parley.mcp.everything",
                "../adapter-mcp/mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"));
        if (!Files.isRegularFile(script)) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true needs server-everything at " + script + " (adapter-mcp/mcp-servers/install.sh)");
            }
            Assumptions.abort("server-everything is not installed (needs Node.js 20+ and npm): " + script);
        }
        mcp = McpTools.builder()
                .server(McpServerConfig.stdio("everything", "node", List.of(script.toAbsolutePath().toString(), "stdio"), Map.of()))
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500))
                .start();
        assertThat(mcp.isConnected("everything")).as(mcp.problem("everything").orElse("")).isTrue();
    }

    @BeforeAll
    static void connect() {
        start();
    }

    @AfterAll
    static void stop() {
        if (mcp != null) {
            mcp.close();
        }
    }

    private static Step toolStep(RunOutcome outcome) {
        return outcome.steps().stream().filter(s -> s.toolCall() != null).findFirst().orElseThrow();
    }

    @Test
    void should_stream_the_progress_and_store_the_result_of_a_long_running_call() throws Exception {
        ChatService chat = parley.start(new DemoChatModel(Duration.ZERO));
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice",
                "use everything_trigger-long-running-operation {\"duration\": 0.6, \"steps\": 3}"));
        List<String> progress = new ArrayList<>();
        try (RunStream events = chat.subscribe("alice", receipt.run().threadId(), receipt.run().id(), 0, DisconnectPolicy.CONTINUE)) {
            events.forEach(e -> {
                if (e instanceof RunEvent.TraceUpdate update) {
                    progress.add(update.content());
                }
            });
        }
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(progress).containsExactly("progress 1/3", "progress 2/3", "progress 3/3");
        assertThat(toolStep(outcome).output()).isEqualTo("Long running operation completed. Duration: 0.6 seconds, Steps: 3.");
    }

    @Test
    void should_fail_the_step_with_the_servers_message_when_it_answers_an_error() throws Exception {
        ChatService chat = parley.start(new DemoChatModel(Duration.ZERO));
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "use everything_get-sum {\"a\": \"two\", \"b\": 1}"));
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        Step step = toolStep(outcome);
        assertThat(step.status()).isEqualTo(StepStatus.FAILED);
        assertThat(step.error()).contains("a");
        assertThat(outcome.responseText()).startsWith("The everything_get-sum tool answered:");
    }

    @Test
    void should_end_the_run_at_once_when_cancelled_during_a_long_call() throws Exception {
        ChatService chat = parley.start(new DemoChatModel(Duration.ZERO));
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice",
                "use everything_trigger-long-running-operation {\"duration\": 20, \"steps\": 200}"));
        try (RunStream events = chat.subscribe("alice", receipt.run().threadId(), receipt.run().id(), 0, DisconnectPolicy.CONTINUE)) {
            awaitEvent(events, RunEvent.TraceUpdate.class);
            long cancelledAt = System.nanoTime();
            chat.cancelRun("alice", receipt.run().threadId(), receipt.run().id());
            awaitEvent(events, RunEvent.Cancelled.class);
            assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofSeconds(1));
        }
        assertThat(chat.await("alice", receipt.run().id(), TIMEOUT).run().status()).isEqualTo(RunStatus.CANCELLED);
    }

    @Test
    void should_fail_the_step_with_a_clear_error_and_finish_the_run_when_the_server_dies_mid_call() throws Exception {
        ChatService chat = parley.start(new DemoChatModel(Duration.ZERO));
        SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice",
                "use everything_trigger-long-running-operation {\"duration\": 20, \"steps\": 200}"));
        try (RunStream events = chat.subscribe("alice", receipt.run().threadId(), receipt.run().id(), 0, DisconnectPolicy.CONTINUE)) {
            awaitEvent(events, RunEvent.TraceUpdate.class);
            // the server's process dies
            ProcessHandle.current().children().filter(p -> p.info().commandLine().orElse("").contains("server-everything"))
                    .forEach(ProcessHandle::destroyForcibly);
        }
        RunOutcome outcome = chat.await("alice", receipt.run().id(), TIMEOUT);
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        Step step = toolStep(outcome);
        assertThat(step.status()).isEqualTo(StepStatus.FAILED);
        assertThat(step.error()).startsWith("the MCP server 'everything' exited with code").endsWith("during the call");
        assertThat(Duration.between(step.startedAt(), step.completedAt())).isLessThan(Duration.ofSeconds(5));
        // and the server comes back for the next run
        java.util.concurrent.CountDownLatch back = new java.util.concurrent.CountDownLatch(1);
        mcp.onToolsChanged(() -> {
            if (mcp.isConnected("everything")) {
                back.countDown();
            }
        });
        if (!mcp.isConnected("everything")) {
            assertThat(back.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("reconnected").isTrue();
        }
        SendReceipt again = chat.send(SendMessageCommand.newThread("alice", "use everything_echo {\"message\": \"back\"}"));
        assertThat(chat.await("alice", again.run().id(), TIMEOUT).responseText()).isEqualTo("The everything_echo tool answered: Echo: back");
    }

    @Test
    void should_wait_for_a_persons_approval_of_a_tool_its_server_marks_so() throws Exception {
        Path script = Path.of(System.getProperty("parley.mcp.everything",
                "../adapter-mcp/mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"));
        McpServerConfig guarded = McpServerConfig.stdio("guarded", "node", List.of(script.toAbsolutePath().toString(), "stdio"), Map.of())
                .requiringApprovalOf(java.util.Set.of("echo"));
        try (McpTools tools = McpTools.builder().server(guarded).start();
             ChatService chat = ChatService.builder().store(dev.parley.adapter.inmemory.InMemoryAdapters.store())
                     .model(new DemoChatModel(Duration.ZERO)).agents(List.of(Agent.builder("guarded").tools(tools.tools()).build())).build()) {
            SendReceipt receipt = chat.send(SendMessageCommand.newThread("alice", "use guarded_echo {\"message\": \"careful\"}"));
            RunOutcome waiting = chat.await("alice", receipt.run().id(), TIMEOUT);
            assertThat(waiting.run().status()).isEqualTo(RunStatus.REQUIRES_ACTION);
            String callId = waiting.pendingApprovals().get(0).id();

            chat.decide(new dev.parley.chat.port.in.ApprovalCommand("alice", receipt.run().threadId(), receipt.run().id(), callId,
                    dev.parley.chat.model.ApprovalDecision.APPROVE, null));

            RunOutcome done = chat.await("alice", receipt.run().id(), TIMEOUT);
            assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
            assertThat(done.responseText()).isEqualTo("The guarded_echo tool answered: Echo: careful");
            assertThat(tools.tools()).filteredOn(t -> t.name().equals("guarded_get-sum")).singleElement()
                    .satisfies(t -> assertThat(t.requiresApproval()).isFalse());
        }
    }

    private static void awaitEvent(RunStream events, Class<? extends RunEvent> type) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<RunEvent> event = events.next(Duration.ofSeconds(1));
            if (event.isPresent() && type.isInstance(event.get())) {
                return;
            }
        }
        fail("no " + type.getSimpleName() + " within " + TIMEOUT);
    }
}
