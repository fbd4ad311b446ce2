package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-user limits of open streams (SSE and WebSocket) and active runs, the cap on unauthenticated WebSockets, and their metrics. */
class LimitsTest {
    private static final String STREAMED = "{\"message\":\"hi\",\"stream\":true}";
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A streamed chat on a new thread of {@code user}, open and past its first token. */
    private TestServer.EventStream streamedChat(String user) {
        TestServer.EventStream stream = server.request("POST", "/api/v1/chat").as(user).json(STREAMED).stream();
        assertThat(stream.events().next().event()).isEqualTo("run_started");
        return stream;
    }

    private static void assertTooMany(TestServer.Response r, String code, int limit, String retryAfter) {
        assertThat(r.status()).as(r.body()).isEqualTo(429);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().get("code").asText()).isEqualTo(code);
        assertThat(r.json().get("limit").asInt()).isEqualTo(limit);
        assertThat(r.header("Retry-After")).isEqualTo(retryAfter);
    }

    private int threadsOf(String user) {
        return server.get(user, "/api/v1/threads").json().get("data").size();
    }

    @Test
    void should_refuse_a_stream_past_the_users_limit_store_nothing_and_accept_one_as_soon_as_a_stream_ends() {
        // given: alice holds two streams of one run, the most allowed
        StreamLimits limits = StreamLimits.perUser(2);
        server = TestServer.start(ScriptedChatModel.builder().tokensThenBlock("x").build(), c -> c.streamLimits(limits));
        TestServer.EventStream chat = streamedChat(ALICE);
        String thread = server.get(ALICE, "/api/v1/threads").json().get("data").get(0).get("id").asText();
        String runId = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("id").asText();
        TestServer.EventStream events = server.request("GET", "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, runId)
                .as(ALICE).stream();

        // when / then: a third stream is refused, whether it would start a run or follow one, and stores nothing
        assertTooMany(server.request("POST", "/api/v1/chat").as(ALICE).json(STREAMED).send(), "too_many_streams", 2, "2");
        assertTooMany(server.request("GET", "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, runId).as(ALICE).send(),
                "too_many_streams", 2, "2");
        assertThat(threadsOf(ALICE)).isEqualTo(1);
        assertThat(limits.openBy(ALICE)).isEqualTo(2);
        assertThat(limits.refused()).isEqualTo(2);
        // a sync chat holds no stream, and another user has streams of their own
        assertThat(server.post(ALICE, "{\"message\":\"sync\"}", "/api/v1/chat").status()).isEqualTo(200);
        try (TestServer.EventStream bobs = server.request("POST", "/api/v1/chat").as(BOB).json(STREAMED).stream()) {
            assertThat(bobs.events().readToEnd()).isNotEmpty();
        }

        // when the run ends, both streams end
        assertThat(server.post(ALICE, "{}", "/api/v1/threads/{thread_id}/runs/{run_id}/cancel", thread, runId).status()).isEqualTo(200);
        chat.events().readToEnd();
        events.events().readToEnd();
        chat.close();
        events.close();

        // then their slots are free at once: a stream is free before its client sees the stream end
        assertThat(limits.openBy(ALICE)).isZero();
        try (TestServer.EventStream again = server.request("GET", "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, runId)
                .as(ALICE).stream()) {
            assertThat(again.events().readToEnd()).isNotEmpty();
        }
    }

    @Test
    void should_free_the_slot_of_a_stream_whose_client_went_away() {
        // given: alice's only slot is held by a stream of a run that goes on
        StreamLimits limits = StreamLimits.perUser(1);
        server = TestServer.start(ScriptedChatModel.builder().tokensThenBlock("x").build(),
                c -> c.streamLimits(limits).heartbeatInterval(Duration.ofMillis(50)));
        TestServer.EventStream stream = streamedChat(ALICE);

        // when her client goes away
        stream.close();

        // then the server notices at its next write and the slot is hers again
        TestServer.eventually("the stream's slot is freed", () -> limits.openBy(ALICE) == 0);
        assertThat(server.post(ALICE, "{\"message\":\"sync\"}", "/api/v1/chat").status()).isEqualTo(200);
        try (TestServer.EventStream again = server.request("POST", "/api/v1/chat").as(ALICE).json(STREAMED).stream()) {
            assertThat(again.events().readToEnd()).isNotEmpty();
        }
    }

    @Test
    void should_count_websockets_and_sse_streams_against_one_limit() {
        // given: alice holds an SSE stream and a WebSocket, the most allowed
        StreamLimits limits = StreamLimits.perUser(2);
        server = TestServer.start(ScriptedChatModel.builder().tokensThenBlock("x").build(), c -> c.streamLimits(limits));
        TestServer.EventStream sse = streamedChat(ALICE);
        WsClient first = WsClient.connect(server, Map.of());
        first.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(ALICE) + "\"}");
        assertThat(first.next().get("type").asText()).isEqualTo("session_start");

        // when / then: a second WebSocket is refused after its auth frame, with an error frame and 4429
        try (WsClient second = WsClient.connect(server, Map.of())) {
            second.send("{\"type\":\"auth\",\"request_id\":\"a1\",\"token\":\"" + Tokens.forUser(ALICE) + "\"}");
            JsonNode error = second.next();
            assertThat(error.get("type").asText()).isEqualTo("error");
            assertThat(error.get("code").asText()).isEqualTo("too_many_streams");
            assertThat(error.get("retry_after").asInt()).isEqualTo(2);
            assertThat(error.get("request_id").asText()).isEqualTo("a1");
            assertThat(second.closeCode()).isEqualTo(WsGate.CLOSE_TOO_MANY_STREAMS);
        }
        // and so is an SSE stream
        assertTooMany(server.request("POST", "/api/v1/chat").as(ALICE).json(STREAMED).send(), "too_many_streams", 2, "2");

        // when the first WebSocket closes, its slot is free
        first.close();
        TestServer.eventually("the socket's slot is freed", () -> limits.openBy(ALICE) == 1);
        try (WsClient third = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(third.next().get("type").asText()).isEqualTo("session_start");
        }
        sse.close();
    }

    @Test
    void should_refuse_a_run_past_the_users_active_runs_over_http_and_websocket() {
        // given: alice's one active run allowed is in progress
        server = TestServer.start(ScriptedChatModel.builder().tokensThenBlock("x").build(), s -> s.maxActiveRunsPerUser(1), c -> c);
        TestServer.EventStream running = streamedChat(ALICE);

        // when / then
        TestServer.Response refused = server.post(ALICE, "{\"message\":\"one more\"}", "/api/v1/chat");
        assertTooMany(refused, "too_many_active_runs", 1, "5");
        assertThat(refused.json().get("detail").asText()).contains("1 active runs");
        assertThat(threadsOf(ALICE)).isEqualTo(1);
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
            ws.send("{\"type\":\"chat\",\"request_id\":\"c1\",\"message\":\"and another\"}");
            JsonNode error = ws.next();
            assertThat(error.get("code").asText()).isEqualTo("too_many_active_runs");
            assertThat(error.get("retry_after").asInt()).isEqualTo(5);
            assertThat(error.get("request_id").asText()).isEqualTo("c1");
        }
        // another user is not affected
        assertThat(server.post(BOB, "{\"message\":\"hi\"}", "/api/v1/chat").status()).isEqualTo(200);
        running.close();
    }

    @Test
    void should_close_websockets_beyond_the_cap_of_unauthenticated_ones_until_one_authenticates() {
        // given: two sockets wait for their auth frame, the most allowed
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.maxUnauthenticatedWebSockets(2));
        WsClient first = WsClient.connect(server, Map.of());
        WsClient second = WsClient.connect(server, Map.of());

        // when / then: a third is closed at once with "try again later"
        try (WsClient third = WsClient.connect(server, Map.of())) {
            assertThat(third.closeCode()).isEqualTo(1013);
        }
        // once one of them authenticates, a new socket is welcome
        first.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(ALICE) + "\"}");
        assertThat(first.next().get("type").asText()).isEqualTo("session_start");
        try (WsClient fourth = WsClient.connect(server, Map.of())) {
            fourth.send("{\"type\":\"auth\",\"token\":\"" + Tokens.forUser(BOB) + "\"}");
            assertThat(fourth.next().get("type").asText()).isEqualTo("session_start");
        }
        first.close();
        second.close();
    }

    @Test
    void should_show_executing_queued_deferred_and_refused_counts_in_the_metrics() {
        // given: a server that executes one run at once, with alice's run executing and bob's left queued
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ParleyMetrics metrics = ParleyMetrics.of(registry);
        server = TestServer.start(ScriptedChatModel.builder().tokensThenBlock("x").build(),
                s -> s.observer(metrics).maxExecutingRuns(1).maxActiveRunsPerUser(1).queuedRunsPoll(Duration.ZERO),
                c -> c.metrics(metrics).metricsEndpoint(registry::scrape).maxStreamsPerUser(1));
        TestServer.EventStream running = streamedChat(ALICE);
        try (WsClient bob = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(BOB)))) {
            assertThat(bob.next().get("type").asText()).isEqualTo("session_start");
            bob.send("{\"type\":\"chat\",\"message\":\"wait\"}");

            // when alice asks for a second stream and a second run
            assertThat(server.request("POST", "/api/v1/chat").as(ALICE).json(STREAMED).send().status()).isEqualTo(429);
            assertThat(server.post(ALICE, "{\"message\":\"more\"}", "/api/v1/chat").status()).isEqualTo(429);

            // then
            TestServer.eventually("the load and the refusals are shown", () -> {
                String text = server.request("GET", "/metrics").undocumented().send().body();
                return MetricsTest.value(text, "parley_runs_executing") == 1.0
                        && MetricsTest.value(text, "parley_runs_executing_max") == 1.0
                        && MetricsTest.value(text, "parley_runs_queued") == 1.0
                        && MetricsTest.value(text, "parley_runs_deferred_total") == 1.0
                        && MetricsTest.value(text, "parley_limits_refused_total", "limit", "streams") == 1.0
                        && MetricsTest.value(text, "parley_limits_refused_total", "limit", "active_runs") == 1.0;
            });
        }
        running.close();
    }

    @Test
    void should_close_connections_that_send_no_complete_request_head_in_time_and_keep_those_that_did() throws Exception {
        // given
        server = TestServer.start(ScriptedChatModel.echo(), c -> c.requestHeaderTimeout(Duration.ofMillis(300)));
        int port = server.app.port();
        try (java.net.Socket served = new java.net.Socket("localhost", port);
             java.net.Socket silent = new java.net.Socket("localhost", port);
             java.net.Socket trickling = new java.net.Socket("localhost", port)) {
            served.setSoTimeout(10_000);
            silent.setSoTimeout(10_000);
            trickling.setSoTimeout(10_000);
            String request = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
            served.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertThat(readResponseHead(served)).startsWith("HTTP/1.1 200");
            trickling.getOutputStream().write("GET /health HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

            // when / then: the connections that sent no complete head are closed once the deadline passed
            assertThat(silent.getInputStream().read()).isEqualTo(-1);
            assertThat(readToEnd(trickling)).doesNotContain("200");
            // and the one that sent a request keeps serving
            served.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertThat(readResponseHead(served)).startsWith("HTTP/1.1 200");
        }
    }

    /** The status line and headers of the next response, and its body (Content-Length) read past. */
    private static String readResponseHead(java.net.Socket socket) throws java.io.IOException {
        java.io.InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
        return head.toString();
    }

    private static String readToEnd(java.net.Socket socket) {
        try {
            return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        } catch (java.io.IOException reset) {
            return "";
        }
    }
}
