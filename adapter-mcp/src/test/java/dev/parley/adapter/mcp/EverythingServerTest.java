package dev.parley.adapter.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Parley against a server nobody here wrote: server-everything from npm, over stdio and Streamable HTTP. */
class EverythingServerTest {
    private static McpTools stdio;
    private static Everything.Http httpServer;
    private static McpTools http;

    @BeforeAll
    static void start() throws Exception {
        stdio = McpTools.builder().server(Everything.stdio("everything")).start();
        httpServer = new Everything.Http();
        http = McpTools.builder().server(McpServerConfig.http("web", httpServer.url, Map.of("X-Test", "1"))).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (stdio != null) {
            stdio.close();
        }
        if (http != null) {
            http.close();
        }
        if (httpServer != null) {
            httpServer.close();
        }
    }

    @Test
    void should_offer_the_servers_tools_prefixed_with_its_name_and_their_schemas_as_given() {
        assertThat(stdio.isConnected("everything")).as(stdio.problem("everything").orElse("")).isTrue();
        assertThat(stdio.tools()).extracting(Tool::name)
                .contains("everything_echo", "everything_get-sum", "everything_trigger-long-running-operation");
        Tool sum = Calls.tool(stdio, "everything_get-sum");
        assertThat(sum.description()).isEqualTo("Returns the sum of two numbers");
        assertThat(sum.parametersSchema()).contains("\"a\"", "\"b\"", "\"required\":[\"a\",\"b\"]", "First number");
        assertThat(sum.timeout()).isEqualTo(McpServerConfig.DEFAULT_TIMEOUT);
        assertThat(sum.requiresApproval()).isFalse();
    }

    @Test
    void should_echo_over_stdio() throws Exception {
        assertThat(new Calls().call(Calls.tool(stdio, "everything_echo"), "{\"message\":\"hello there\"}")).isEqualTo("Echo: hello there");
    }

    @Test
    void should_add_over_stdio() throws Exception {
        assertThat(new Calls().call(Calls.tool(stdio, "everything_get-sum"), "{\"a\":2,\"b\":40}")).contains("42");
    }

    @Test
    void should_fail_the_step_with_the_servers_message_when_the_result_is_an_error() {
        // the server answers a call with bad arguments with isError and says why
        assertThatThrownBy(() -> new Calls().call(Calls.tool(stdio, "everything_get-sum"), "{\"a\":\"two\",\"b\":1}"))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("a");
    }

    @Test
    void should_turn_progress_notifications_into_progress_lines() throws Exception {
        Calls calls = new Calls();
        String result = calls.call(Calls.tool(stdio, "everything_trigger-long-running-operation"), "{\"duration\":0.4,\"steps\":4}");
        assertThat(result).startsWith("Long running operation completed");
        assertThat(calls.progress).containsExactly("progress 1/4", "progress 2/4", "progress 3/4", "progress 4/4");
    }

    @Test
    void should_return_at_once_when_a_long_call_is_cancelled() throws Exception {
        Calls calls = new Calls();
        Tool slow = Calls.tool(stdio, "everything_trigger-long-running-operation");
        CompletableFuture<String> call = CompletableFuture.supplyAsync(() -> {
            try {
                return calls.call(slow, "{\"duration\":30,\"steps\":300}");
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        // the call is under way once the server reports progress
        assertThat(calls.firstProgress.await(10, TimeUnit.SECONDS)).as("the call is under way").isTrue();
        long cancelledAt = System.nanoTime();
        calls.cancellation.cancel();
        assertThatThrownBy(() -> call.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RunCancelledException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - cancelledAt)).isLessThan(Duration.ofSeconds(1));
        // the connection still serves calls
        assertThat(new Calls().call(Calls.tool(stdio, "everything_echo"), "{\"message\":\"after\"}")).isEqualTo("Echo: after");
    }

    @Test
    void should_fail_a_call_at_once_when_the_http_server_dies_during_it() throws Exception {
        try (Everything.Http dying = new Everything.Http();
             McpTools tools = McpTools.builder().server(McpServerConfig.http("dying", dying.url, Map.of()))
                     .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(500)).start()) {
            Calls calls = new Calls();
            Tool slow = Calls.tool(tools, "dying_trigger-long-running-operation");
            CompletableFuture<String> call = CompletableFuture.supplyAsync(() -> {
                try {
                    return calls.call(slow, "{\"duration\":20,\"steps\":200}");
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            assertThat(calls.firstProgress.await(10, TimeUnit.SECONDS)).as("the call is under way").isTrue();
            long killedAt = System.nanoTime();
            dying.process.destroyForcibly();

            assertThatThrownBy(() -> call.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ToolException.class)
                    .cause().hasMessageContaining("the MCP server 'dying'");
            assertThat(Duration.ofNanos(System.nanoTime() - killedAt)).isLessThan(Duration.ofSeconds(5));
            assertThat(tools.isConnected("dying")).isFalse();
        }
    }

    @Test
    void should_echo_add_and_report_progress_over_streamable_http() throws Exception {
        assertThat(http.isConnected("web")).as(http.problem("web").orElse("")).isTrue();
        assertThat(new Calls().call(Calls.tool(http, "web_echo"), "{\"message\":\"over http\"}")).isEqualTo("Echo: over http");
        assertThat(new Calls().call(Calls.tool(http, "web_get-sum"), "{\"a\":1.5,\"b\":2}")).contains("3.5");
        Calls calls = new Calls();
        calls.call(Calls.tool(http, "web_trigger-long-running-operation"), "{\"duration\":0.2,\"steps\":2}");
        assertThat(calls.progress).containsExactly("progress 1/2", "progress 2/2");
    }
}
