package dev.parley.adapter.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.out.Tool;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Servers that crash, hang, change their tools or cannot be reached: an in-JVM server built with the Java SDK. */
class FaultsTest {
    private final InJvmServer server = new InJvmServer();
    private McpTools mcp;

    @AfterEach
    void stop() throws Exception {
        server.close();
        if (mcp != null) {
            mcp.close();
        }
    }

    private McpTools start(McpServerConfig config) {
        mcp = McpTools.builder().server(config, server.factory())
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .connectTimeout(Duration.ofSeconds(10))
                .start();
        return mcp;
    }

    private static McpServerConfig config() {
        return McpServerConfig.stdio("jvm", "unused", List.of(), Map.of());
    }

    private static CompletableFuture<String> callAsync(Calls calls, Tool tool, String arguments) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return calls.call(tool, arguments);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
    }

    @Test
    void should_call_a_tool_of_a_java_sdk_server() throws Exception {
        start(config());
        assertThat(mcp.tools()).extracting(Tool::name).containsExactly("jvm_quick", "jvm_slow", "jvm_broken");
        assertThat(new Calls().call(Calls.tool(mcp, "jvm_quick"), "{\"n\":7}")).isEqualTo("quick: {n=7}");
    }

    @Test
    void should_fail_the_step_with_the_servers_message_on_an_error_result() {
        start(config());
        assertThatThrownBy(() -> new Calls().call(Calls.tool(mcp, "jvm_broken"), "{}"))
                .isInstanceOf(ToolException.class).hasMessage("the widget is broken");
    }

    @Test
    void should_send_the_cancellation_to_the_server_and_return_at_once_when_a_slow_call_is_cancelled() throws Exception {
        start(config());
        Calls calls = new Calls();
        CompletableFuture<String> call = callAsync(calls, Calls.tool(mcp, "jvm_slow"), "{}");
        assertThat(server.slowStarted.await(10, TimeUnit.SECONDS)).isTrue();

        long cancelledAt = System.nanoTime();
        calls.cancellation.cancel();

        assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofMillis(500));
        assertThat(server.cancelRead.await(5, TimeUnit.SECONDS)).as("the server read notifications/cancelled").isTrue();
        String callLine = server.received.stream().filter(l -> l.contains("\"tools/call\"")).findFirst().orElseThrow();
        String cancelLine = server.received.stream().filter(l -> l.contains("\"notifications/cancelled\"")).findFirst().orElseThrow();
        String id = callLine.replaceAll(".*\"id\":(\"[^\"]*\"|\\d+).*", "$1");
        assertThat(cancelLine).contains("\"requestId\":" + id);
    }

    @Test
    void should_cancel_the_call_on_the_server_when_the_tools_timeout_passes() throws Exception {
        start(config().withTimeout(Duration.ofMillis(300)));
        Tool slow = Calls.tool(mcp, "jvm_slow");
        assertThat(slow.timeout()).isEqualTo(Duration.ofMillis(300));
        assertThatThrownBy(() -> new Calls().call(slow, "{}"))
                .isInstanceOf(ToolException.class).hasMessageContaining("did not answer within 300 ms");
        assertThat(server.cancelRead.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void should_fail_a_call_in_flight_at_once_when_the_server_crashes_and_reconnect() throws Exception {
        start(config());
        CountDownLatch reconnected = new CountDownLatch(1);
        Calls calls = new Calls();
        CompletableFuture<String> call = callAsync(calls, Calls.tool(mcp, "jvm_slow"), "{}");
        assertThat(server.slowStarted.await(10, TimeUnit.SECONDS)).isTrue();
        mcp.onToolsChanged(() -> {
            if (mcp.isConnected("jvm") && server.connections.get() == 2) {
                reconnected.countDown();
            }
        });

        server.crash();

        assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(ToolException.class)
                .cause().hasMessageContaining("the MCP server 'jvm'").hasMessageContaining("during the call");
        assertThat(reconnected.await(10, TimeUnit.SECONDS)).as("reconnected").isTrue();
        assertThat(new Calls().call(Calls.tool(mcp, "jvm_quick"), "{}")).startsWith("quick");
    }

    @Test
    void should_fail_calls_at_once_with_the_reason_while_the_server_is_down_and_retry_with_backoff() throws Exception {
        start(config());
        Tool quick = Calls.tool(mcp, "jvm_quick");
        CountDownLatch lost = new CountDownLatch(1);
        CountDownLatch back = new CountDownLatch(1);
        mcp.onToolsChanged(() -> (mcp.isConnected("jvm") ? back : lost).countDown());
        server.refuseConnections(true);
        server.crash();
        assertThat(lost.await(5, TimeUnit.SECONDS)).isTrue();

        long start = System.nanoTime();
        assertThatThrownBy(() -> new Calls().call(quick, "{}"))
                .isInstanceOf(ToolException.class).hasMessageContaining("the MCP server 'jvm'").hasMessageContaining("reconnects");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
        assertThat(mcp.tools()).isEmpty();
        assertThat(mcp.problem("jvm")).isPresent();

        server.refuseConnections(false);
        assertThat(back.await(10, TimeUnit.SECONDS)).isTrue();
        // the same tool object works again once the server is back
        assertThat(new Calls().call(quick, "{}")).startsWith("quick");
    }

    @Test
    void should_offer_a_tool_the_server_adds_once_it_says_its_list_changed() throws Exception {
        start(config());
        CountDownLatch changed = new CountDownLatch(1);
        mcp.onToolsChanged(() -> {
            if (mcp.tools().stream().anyMatch(t -> t.name().equals("jvm_added"))) {
                changed.countDown();
            }
        });
        Tool slow = Calls.tool(mcp, "jvm_slow");

        server.server().addTool(InJvmServer.tool("added", "Added later", (exchange, request) -> InJvmServer.text("added!")));
        server.server().removeTool("slow");
        server.server().notifyToolsListChanged();

        assertThat(changed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(new Calls().call(Calls.tool(mcp, "jvm_added"), "{}")).isEqualTo("added!");
        assertThat(mcp.tools()).extracting(Tool::name).doesNotContain("jvm_slow");
        assertThatThrownBy(() -> new Calls().call(slow, "{}")).isInstanceOf(ToolException.class)
                .hasMessageContaining("no longer offers the tool 'slow'");
    }

    @Test
    void should_serve_a_tool_again_through_the_same_object_once_the_server_offers_it_again() throws Exception {
        start(config());
        Tool quick = Calls.tool(mcp, "jvm_quick");
        java.util.concurrent.Semaphore changes = new java.util.concurrent.Semaphore(0);
        mcp.onToolsChanged(changes::release);

        server.server().removeTool("quick");
        server.server().notifyToolsListChanged();
        assertThat(changes.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
        assertThat(mcp.tools()).doesNotContain(quick);
        server.server().addTool(InJvmServer.tool("quick", "Answers at once, again", (exchange, request) -> InJvmServer.text("again")));
        server.server().notifyToolsListChanged();
        assertThat(changes.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

        assertThat(mcp.tools()).contains(quick);
        assertThat(quick.description()).isEqualTo("Answers at once, again");
        assertThat(new Calls().call(quick, "{}")).isEqualTo("again");
    }

    @Test
    void should_close_at_once_while_a_reconnect_waits_for_a_server_that_does_not_answer() throws Exception {
        mcp = McpTools.builder().server(config(), server.factory())
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .connectTimeout(Duration.ofSeconds(20))
                .start();
        server.answerNothing();
        server.crash();
        assertThat(server.silentlyOpened.await(10, TimeUnit.SECONDS)).as("a reconnect is under way").isTrue();

        long start = System.nanoTime();
        mcp.close();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(mcp.isConnected("jvm")).isFalse();
    }

    @Test
    void should_mark_all_tools_or_tools_by_name_as_requiring_approval() {
        start(config().requiringApprovalOf(Set.of("broken")));
        assertThat(Calls.tool(mcp, "jvm_broken").requiresApproval()).isTrue();
        assertThat(Calls.tool(mcp, "jvm_quick").requiresApproval()).isFalse();
        mcp.close();
        start(config().requiringApproval());
        assertThat(mcp.tools()).allMatch(Tool::requiresApproval);
    }

    @Test
    void should_say_an_http_server_cannot_be_reached_and_keep_trying() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        mcp = McpTools.builder().server(McpServerConfig.http("gone", URI.create("http://127.0.0.1:" + port + "/mcp"), Map.of()))
                .connectTimeout(Duration.ofSeconds(5)).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(100)).start();
        assertThat(mcp.isConnected("gone")).isFalse();
        assertThat(mcp.tools()).isEmpty();
        assertThat(mcp.problem("gone")).hasValueSatisfying(p -> assertThat(p).startsWith("the MCP server 'gone' could not be reached"));
    }

    @Test
    void should_say_a_stdio_server_that_cannot_start_cannot_be_reached() {
        mcp = McpTools.builder().server(McpServerConfig.stdio("nothing", "/nonexistent/mcp-server", List.of(), Map.of()))
                .connectTimeout(Duration.ofSeconds(5)).start();
        assertThat(mcp.isConnected("nothing")).isFalse();
        assertThat(mcp.problem("nothing")).hasValueSatisfying(p -> assertThat(p).contains("could not be reached"));
    }

    @Test
    void should_name_tools_server_underscore_tool_within_the_rules_of_tool_names() {
        assertThat(McpTool.parleyName("fs", "read_file")).isEqualTo("fs_read_file");
        assertThat(McpTool.parleyName("fs", "files/read.v2")).isEqualTo("fs_files_read_v2");
        assertThat(McpTool.parleyName("s", "x".repeat(100))).hasSize(64);
        assertThat(McpConnection.backoff(1, Duration.ofSeconds(1), Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(1));
        assertThat(McpConnection.backoff(3, Duration.ofSeconds(1), Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(4));
        assertThat(McpConnection.backoff(40, Duration.ofSeconds(1), Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(30));
    }
}
