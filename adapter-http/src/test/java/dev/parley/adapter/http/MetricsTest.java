package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.AGENT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics} in the Prometheus text format, with the series of runs, steps, tokens, streams, store errors and requests. */
class MetricsTest {
    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ParleyMetrics metrics = ParleyMetrics.of(registry);
    private final AtomicBoolean storeDown = new AtomicBoolean();
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        registry.close();
    }

    private TestServer start(ScriptedChatModel model, String token) {
        server = TestServer.start(model, service -> service.observer(metrics), c -> {
            c.metrics(metrics).readinessCheck(() -> {
                if (storeDown.get()) {
                    throw new StorageUnavailableException("the store is down", null);
                }
            });
            return token == null ? c.metricsEndpoint(registry::scrape) : c.metricsEndpoint(registry::scrape, token);
        });
        return server;
    }

    @Test
    void should_expose_runs_steps_tokens_streams_store_errors_and_requests_after_chats() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder()
                .callTools(new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}")).usage(10, 2)
                .reply("The answer is 42").usage(12, 5)
                .replyTokens("a", "b")
                .fail("model_error", "upstream broke")
                .tokensThenBlock("partial")
                .build();
        start(model, null);
        String thread = server.newThread(ALICE);

        // when: a sync chat with a tool call, a streamed chat, a failed chat and a cancelled stream
        server.chat(ALICE, thread, "What is 6*7?");
        try (var stream = server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE)
                .json("{\"message\":\"stream\",\"stream\":true}").stream()) {
            while (stream.events().next() != null) {
                // read to the end
            }
        }
        assertThat(server.post(ALICE, "{\"message\":\"fail\"}", "/api/v1/threads/{thread_id}/chat", thread).status()).isEqualTo(502);
        try (var stream = server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE)
                .json("{\"message\":\"block\",\"stream\":true}").stream()) {
            assertThat(model.awaitBlocked(TestServer.WAIT)).isTrue();
            TestServer.eventually("the open stream is counted", () -> value(scrape(), "parley_streams_active", "transport", "sse") == 1.0);
            assertThat(server.delete(ALICE, "/api/v1/threads/{thread_id}/chat", thread).status()).isEqualTo(200);
            while (stream.events().next() != null) {
                // read to the cancelled event
            }
        }
        storeDown.set(true);
        assertThat(server.get(null, "/ready").status()).isEqualTo(503);

        // then
        TestServer.eventually("both streams ended and were counted", () -> {
            String now = scrape();
            return value(now, "parley_streams_active", "transport", "sse") == 0.0 && value(now, "http_server_requests_seconds_count",
                    "method", "POST", "uri", "/api/v1/threads/{thread_id}/chat", "status", "200", "outcome", "SUCCESS") == 3.0;
        });
        String text = scrape();
        assertThat(value(text, "parley_runs_started_total", "agent", AGENT)).isEqualTo(4.0);
        assertThat(value(text, "parley_runs_ended_total", "agent", AGENT, "status", "completed", "error", "none")).isEqualTo(2.0);
        assertThat(value(text, "parley_runs_ended_total", "agent", AGENT, "status", "failed", "error", "model_error")).isEqualTo(1.0);
        assertThat(value(text, "parley_runs_ended_total", "agent", AGENT, "status", "cancelled", "error", "none")).isEqualTo(1.0);
        assertThat(value(text, "parley_run_duration_seconds_count", "agent", AGENT, "status", "completed")).isEqualTo(2.0);
        assertThat(value(text, "parley_run_duration_seconds_bucket", "agent", AGENT, "status", "completed", "le", "+Inf")).isEqualTo(2.0);
        assertThat(value(text, "parley_run_first_token_seconds_count", "agent", AGENT)).isEqualTo(3.0);
        assertThat(value(text, "parley_step_duration_seconds_count", "type", "tool_call", "tool", "calculator", "status", "completed"))
                .isEqualTo(1.0);
        assertThat(value(text, "parley_tokens_total", "agent", AGENT, "kind", "input")).isGreaterThanOrEqualTo(22.0);
        assertThat(value(text, "parley_tokens_total", "agent", AGENT, "kind", "output")).isGreaterThanOrEqualTo(7.0);
        // every ended run is charged by agent and model: the two completed, the failed and the cancelled one
        TestServer.eventually("the ended runs' tokens and cost are counted by agent and model",
                () -> value(scrape(), "parley_run_tokens_total", "agent", AGENT, "model", "scripted", "kind", "input") >= 22.0
                        && value(scrape(), "parley_run_cost_usd_total", "agent", AGENT, "model", "scripted") > 0.0);
        assertThat(value(scrape(), "parley_run_tokens_total", "agent", AGENT, "model", "scripted", "kind", "output"))
                .isGreaterThanOrEqualTo(7.0);
        assertThat(value(text, "parley_streams_active", "transport", "websocket")).isEqualTo(0.0);
        assertThat(value(text, "parley_store_errors_total", "where", "ready")).isEqualTo(1.0);
        assertThat(value(text, "http_server_requests_seconds_count",
                "method", "POST", "uri", "/api/v1/threads/{thread_id}/chat", "status", "200", "outcome", "SUCCESS")).isEqualTo(3.0);
        assertThat(value(text, "http_server_requests_seconds_count",
                "method", "POST", "uri", "/api/v1/threads/{thread_id}/chat", "status", "502", "outcome", "SERVER_ERROR")).isEqualTo(1.0);
        assertThat(value(text, "http_server_requests_seconds_count", "method", "POST", "uri", "/api/v1/threads", "status", "201",
                "outcome", "SUCCESS")).isEqualTo(1.0);
    }

    @Test
    void should_count_websocket_sessions_and_their_streams() {
        start(ScriptedChatModel.builder().tokensThenBlock("x").build(), null);
        try (WsClient ws = WsClient.connect(server, Map.of("Authorization", "Bearer " + Tokens.forUser(ALICE)))) {
            assertThat(ws.next().get("type").asText()).isEqualTo("session_start");
            ws.send("{\"type\":\"chat\",\"message\":\"hi\"}");
            ws.until("token");
            TestServer.eventually("the socket and its stream are counted", () -> {
                String text = scrape();
                return value(text, "parley_websocket_sessions") == 1.0 && value(text, "parley_streams_active", "transport", "websocket") == 1.0;
            });
            ws.send("{\"type\":\"cancel\"}");
            ws.until("cancelled");
        }
        TestServer.eventually("neither is counted any more", () -> {
            String text = scrape();
            return value(text, "parley_websocket_sessions") == 0.0 && value(text, "parley_streams_active", "transport", "websocket") == 0.0;
        });
    }

    @Test
    void should_serve_metrics_only_with_the_token_when_one_is_configured() {
        start(ScriptedChatModel.echo(), "scrape-secret");
        var without = server.request("GET", "/metrics").undocumented().send();
        var wrong = server.request("GET", "/metrics").undocumented().header("Authorization", "Bearer other").send();
        var user = server.request("GET", "/metrics").undocumented().as(ALICE).send();
        var right = server.request("GET", "/metrics").undocumented().header("Authorization", "Bearer scrape-secret").send();
        assertThat(without.status()).isEqualTo(401);
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(user.status()).isEqualTo(401);
        assertThat(right.status()).isEqualTo(200);
        assertThat(right.contentType()).startsWith("text/plain; version=0.0.4");
        assertThat(right.body()).contains("# TYPE parley_streams_active gauge");
    }

    @Test
    void should_count_the_runs_of_stopped_servers_it_ended_by_what_told_it() {
        // given
        start(ScriptedChatModel.echo(), null);
        IdGenerator ids = IdGenerator.timeOrdered();
        Run run = Run.queued(RunId.next(ids), ThreadId.next(ids), AGENT, null, MessageId.next(ids), Instant.EPOCH);

        // when the chat service ended two runs of a server seen gone and one whose lease expired
        metrics.runReaped(run, "liveness");
        metrics.runReaped(run, "liveness");
        metrics.runReaped(run, "lease");

        // then
        String scrape = scrape();
        assertThat(value(scrape, "parley_runs_reaped_total", "by", "liveness")).isEqualTo(2.0);
        assertThat(value(scrape, "parley_runs_reaped_total", "by", "lease")).isEqualTo(1.0);
    }

    @Test
    void should_have_no_metrics_route_unless_configured() {
        server = TestServer.start(ScriptedChatModel.echo());
        assertThat(server.request("GET", "/metrics").undocumented().send().status()).isEqualTo(404);
    }

    private String scrape() {
        var r = server.request("GET", "/metrics").undocumented().send();
        assertThat(r.status()).isEqualTo(200);
        return r.body();
    }

    /** The value of the series {@code name} with exactly the labels given as name, value pairs; NaN when absent. */
    static double value(String scrape, String name, String... labels) {
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        for (String line : scrape.split("\n")) {
            Matcher m = LINE.matcher(line.trim());
            if (line.startsWith("#") || !m.matches() || !m.group(1).equals(name)) {
                continue;
            }
            Map<String, String> found = new HashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    found.put(l.group(1), l.group(2));
                }
            }
            if (found.equals(wanted)) {
                return Double.parseDouble(m.group(3));
            }
        }
        return Double.NaN;
    }
}
