package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.parley.adapter.http.ParleyHttp;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.adapter.inmemory.ScriptedChatModel.Script;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.TraceSpan;
import io.javalin.Javalin;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * What an operator sees of a chat: one trace from the client's request through the run, its model
 * and tool calls and its store transactions (OpenTelemetry's in-memory exporter), and the request
 * id on every log line the request causes, also on the run's and the tool's threads (captured
 * logback events).
 */
@org.junit.jupiter.api.Timeout(60)
class ObservabilityTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
    private static final String CLIENT_SPAN = "b7ad6b7169203331";
    private static final org.slf4j.Logger TOOL_LOG = LoggerFactory.getLogger("dev.parley.examples.LookupTool");

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    /** Counts down as spans end, by name: the test waits for the spans it asserts on, never for time. */
    private final Map<String, CountDownLatch> ended = new ConcurrentHashMap<>();
    private OpenTelemetrySdk sdk;
    private RunTracer tracer;
    private ScriptedChatModel model;
    private ChatService chat;
    private Javalin app;
    private ListAppender<ILoggingEvent> logs;
    private Logger core;
    private Level coreLevel;

    @BeforeEach
    void start() {
        sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .addSpanProcessor(new SpanProcessor() {
                    @Override
                    public void onStart(Context parentContext, ReadWriteSpan span) {
                    }

                    @Override
                    public boolean isStartRequired() {
                        return false;
                    }

                    @Override
                    public void onEnd(ReadableSpan span) {
                        latch(span.getName()).countDown();
                    }

                    @Override
                    public boolean isEndRequired() {
                        return true;
                    }
                }).build()).build();
        tracer = DemoTracing.tracer(sdk, false);
        Tool lookup = Tool.of("lookup", "Looks a word up", "{\"type\":\"object\"}", ctx -> {
            TOOL_LOG.info("looking up a word");
            return "the word is secret-output";
        });
        Tool refund = Tool.of("refund", "Refunds an order", "{\"type\":\"object\"}", ctx -> "refunded").requiringApproval();
        model = ScriptedChatModel.builder().build();
        chat = ChatService.builder().store(InMemoryAdapters.store()).model(model)
                .agents(List.of(Agent.builder("helper").name("Helper").tools(lookup, refund).build()))
                .tracer(tracer).build();
        app = ParleyHttp.start(ParleyHttp.config(chat, token -> Optional.of(token)).tracer(tracer).build(), 0);

        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        logs = new ListAppender<>();
        logs.setContext(context);
        logs.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logs);
        core = context.getLogger("dev.parley.chat.core");
        coreLevel = core.getLevel();
        core.setLevel(Level.DEBUG);
    }

    @AfterEach
    void stop() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logs);
        core.setLevel(coreLevel);
        if (app != null) {
            app.stop();
        }
        if (chat != null) {
            chat.close();
        }
        sdk.close();
    }

    private CountDownLatch latch(String name) {
        return ended.computeIfAbsent(name, n -> new CountDownLatch(1));
    }

    private void awaitSpan(String name) throws InterruptedException {
        assertThat(latch(name).await(10, TimeUnit.SECONDS)).as("span %s ended", name).isTrue();
    }

    private SpanData span(String name) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + names()));
    }

    private List<String> names() {
        return exporter.getFinishedSpanItems().stream().map(SpanData::getName).toList();
    }

    private HttpResponse<String> chatOverHttp(String body, String requestId, String traceparent, boolean stream) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + "/api/v1/chat"))
                .header("Authorization", "Bearer alice")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (requestId != null) {
            request.header("X-Request-Id", requestId);
        }
        if (traceparent != null) {
            request.header("traceparent", traceparent);
        }
        if (stream) {
            request.header("Accept", "text/event-stream");
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void should_trace_a_streamed_tool_using_chat_as_one_span_tree_without_content() throws Exception {
        // given
        model.enqueue(Script.toolCalls(new ToolCall("call_1", "lookup", "{\"word\":\"secret-argument\"}")).withUsage(10, 3));
        model.enqueue(Script.tokens("The ", "secret-answer").withUsage(20, 4));

        // when
        HttpResponse<String> answer = chatOverHttp("{\"message\": \"what is the secret-question?\", \"agent_id\": \"helper\"}",
                "client-req-1", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01", true);
        awaitSpan("POST /api/v1/chat");
        awaitSpan("invoke_agent Helper");

        // then the client's trace holds the request, and the run below it
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).contains("event: done");
        assertThat(answer.headers().firstValue("X-Request-Id")).contains("client-req-1");
        SpanData request = span("POST /api/v1/chat");
        assertThat(request.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(request.getTraceId()).isEqualTo(CLIENT_TRACE);
        assertThat(request.getParentSpanId()).isEqualTo(CLIENT_SPAN);
        assertThat(request.getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo("client-req-1");
        assertThat(request.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200L);
        SpanData send = span("parley.send");
        SpanData run = span("invoke_agent Helper");
        assertThat(send.getParentSpanId()).isEqualTo(request.getSpanId());
        assertThat(run.getParentSpanId()).isEqualTo(request.getSpanId());
        assertThat(run.getAttributes().get(AttributeKey.stringKey("gen_ai.operation.name"))).isEqualTo("invoke_agent");
        assertThat(run.getAttributes().get(AttributeKey.stringKey("gen_ai.agent.id"))).isEqualTo("helper");
        assertThat(run.getAttributes().get(AttributeKey.stringKey("parley.run.status"))).isEqualTo("completed");
        assertThat(run.getAttributes().get(AttributeKey.longKey("gen_ai.usage.input_tokens"))).isEqualTo(30L);
        assertThat(run.getAttributes().get(AttributeKey.longKey("gen_ai.usage.output_tokens"))).isEqualTo(7L);
        assertThat(run.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        // and the run's model calls, tool call and end transaction below the run
        List<SpanData> calls = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("chat scripted")).toList();
        assertThat(calls).hasSize(2).allSatisfy(c -> {
            assertThat(c.getParentSpanId()).isEqualTo(run.getSpanId());
            assertThat(c.getKind()).isEqualTo(SpanKind.CLIENT);
            assertThat(c.getAttributes().get(AttributeKey.stringKey("gen_ai.request.model"))).isEqualTo("scripted");
        });
        assertThat(calls.get(0).getAttributes().get(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")))
                .containsExactly("tool_calls");
        assertThat(calls.get(0).getAttributes().get(AttributeKey.longKey("gen_ai.usage.input_tokens"))).isEqualTo(10L);
        assertThat(calls.get(1).getAttributes().get(AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")))
                .containsExactly("stop");
        SpanData tool = span("execute_tool lookup");
        assertThat(tool.getParentSpanId()).isEqualTo(run.getSpanId());
        assertThat(tool.getAttributes().get(AttributeKey.stringKey("gen_ai.tool.name"))).isEqualTo("lookup");
        assertThat(tool.getAttributes().get(AttributeKey.stringKey("gen_ai.tool.call.id"))).isEqualTo("call_1");
        assertThat(span("parley.end").getParentSpanId()).isEqualTo(run.getSpanId());
        assertThat(exporter.getFinishedSpanItems()).allSatisfy(s -> {
            assertThat(s.getTraceId()).isEqualTo(CLIENT_TRACE);
            assertThat(s.getAttributes().asMap().values().toString()).doesNotContain("secret");
        });

        // and every log line of the request names it: the tool's, on the tool's thread, and the run's own
        ILoggingEvent toolLine = logs.list.stream().filter(e -> e.getFormattedMessage().equals("looking up a word")).findFirst()
                .orElseThrow();
        assertThat(toolLine.getMDCPropertyMap()).containsEntry("request_id", "client-req-1")
                .containsEntry("run_id", run.getAttributes().get(AttributeKey.stringKey("parley.run.id")));
        List<ILoggingEvent> runLines = logs.list.stream()
                .filter(e -> run.getAttributes().get(AttributeKey.stringKey("parley.run.id")).equals(e.getMDCPropertyMap().get("run_id")))
                .toList();
        assertThat(runLines).extracting(ILoggingEvent::getThreadName).contains(toolLine.getThreadName())
                .anySatisfy(thread -> assertThat(thread).isNotEqualTo(toolLine.getThreadName()));
        assertThat(runLines).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry("request_id", "client-req-1"));
    }

    @Test
    void should_make_up_a_request_id_for_a_chat_without_one_and_carry_it_into_the_run() throws Exception {
        // given
        model.enqueue(Script.reply("hello"));

        // when
        HttpResponse<String> answer = chatOverHttp("{\"message\": \"hi\", \"agent_id\": \"helper\"}", "bad id; with spaces", null, false);
        awaitSpan("invoke_agent Helper");

        // then
        String made = answer.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(made).matches("req_[0-9a-f]{32}");
        assertThat(span("invoke_agent Helper").getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo(made);
        assertThat(logs.list).filteredOn(e -> e.getMDCPropertyMap().containsKey("run_id"))
                .isNotEmpty().allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry("request_id", made));
    }

    @Test
    void should_mark_a_failed_run_and_its_model_call_as_errors() throws Exception {
        // given
        model.enqueue(Script.failure("model_unavailable", "The upstream model is down"));

        // when
        HttpResponse<String> answer = chatOverHttp("{\"message\": \"hi\", \"agent_id\": \"helper\"}", "client-req-2", null, false);
        awaitSpan("invoke_agent Helper");
        awaitSpan("POST /api/v1/chat");

        // then
        assertThat(answer.statusCode()).isGreaterThanOrEqualTo(500);
        SpanData run = span("invoke_agent Helper");
        assertThat(run.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(run.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("model_unavailable");
        assertThat(run.getAttributes().get(AttributeKey.stringKey("parley.run.status"))).isEqualTo("failed");
        SpanData call = span("chat scripted");
        assertThat(call.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(call.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("model_unavailable");
        assertThat(span("POST /api/v1/chat").getAttributes().get(AttributeKey.longKey("http.response.status_code")))
                .isEqualTo((long) answer.statusCode());
    }

    @Test
    void should_mark_a_cancelled_run_as_cancelled_not_failed() throws Exception {
        // given
        model.enqueue(Script.hangUntilCancelled());
        SendReceipt sent = chat.send(SendMessageCommand.newThread("alice", "wait for it").withAgent("helper"));
        assertThat(model.awaitCalls(1, java.time.Duration.ofSeconds(10))).isTrue();

        // when
        chat.cancelRun("alice", sent.thread().id(), sent.run().id());
        awaitSpan("invoke_agent Helper");

        // then
        SpanData run = span("invoke_agent Helper");
        assertThat(run.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
        assertThat(run.getAttributes().get(AttributeKey.stringKey("parley.run.status"))).isEqualTo("cancelled");
        assertThat(run.getAttributes().get(AttributeKey.booleanKey("parley.cancelled"))).isTrue();
        SpanData call = span("chat scripted");
        assertThat(call.getAttributes().get(AttributeKey.booleanKey("parley.cancelled"))).isTrue();
        assertThat(call.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void should_link_a_run_resumed_after_an_approval_to_the_trace_it_was_sent_in() throws Exception {
        // given a run that waits for approval of a refund, sent in a request of its own
        model.enqueue(Script.toolCalls(new ToolCall("call_9", "refund", "{}")));
        model.enqueue(Script.reply("refunded"));
        TraceSpan sending = tracer.request("POST", "/api/v1/chat", "req-send", null);
        SendReceipt sent;
        try (TraceSpan.Scope scope = sending.makeCurrent()) {
            sent = chat.send(SendMessageCommand.newThread("alice", "refund order 7").withAgent("helper"));
        } finally {
            sending.end();
        }
        awaitSpan("invoke_agent Helper");
        SpanData sentIn = span("POST /api/v1/chat");

        // when another request decides on it
        ended.put("invoke_agent Helper", new CountDownLatch(1));
        MDC.put("request_id", "req-decide");
        try {
            chat.decide(new ApprovalCommand("alice", sent.thread().id(), sent.run().id(), "call_9", ApprovalDecision.APPROVE, null));
        } finally {
            MDC.remove("request_id");
        }
        awaitSpan("invoke_agent Helper");

        // then the paused run's span says so, and the resumed one links to the trace the run was sent in
        List<SpanData> runs = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("invoke_agent Helper")).toList();
        assertThat(runs).hasSize(2);
        assertThat(runs.get(0).getParentSpanId()).isEqualTo(sentIn.getSpanId());
        assertThat(runs.get(0).getAttributes().get(AttributeKey.stringKey("parley.run.status"))).isEqualTo("requires_action");
        SpanData resumed = runs.get(1);
        assertThat(resumed.getAttributes().get(AttributeKey.booleanKey("parley.run.continued"))).isTrue();
        assertThat(resumed.getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo("req-decide");
        assertThat(resumed.getLinks()).singleElement().satisfies(link -> {
            assertThat(link.getSpanContext().getTraceId()).isEqualTo(sentIn.getTraceId());
            assertThat(link.getSpanContext().getSpanId()).isEqualTo(sentIn.getSpanId());
        });
        assertThat(resumed.getAttributes().get(AttributeKey.stringKey("parley.run.status"))).isEqualTo("completed");
        assertThat(span("execute_tool refund").getParentSpanId()).isEqualTo(resumed.getSpanId());
    }

    @Test
    void should_link_a_run_resumed_on_another_server_to_the_trace_it_was_sent_in() throws Exception {
        // given two servers on one database, and a run sent on the first that waits for approval
        String url = "jdbc:h2:mem:obs-" + java.util.UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        var storeA = dev.parley.adapter.jdbc.JdbcChatStores.builder().url(url).credentials("sa", "").build();
        var storeB = dev.parley.adapter.jdbc.JdbcChatStores.builder().url(url).credentials("sa", "").build();
        ScriptedChatModel shared = ScriptedChatModel.builder().build();
        Agent helper = Agent.builder("helper").name("Helper")
                .tools(Tool.of("refund", "Refunds an order", "{\"type\":\"object\"}", ctx -> "refunded").requiringApproval()).build();
        try (storeA; storeB;
             ChatService first = ChatService.builder().store(storeA).model(shared).agents(List.of(helper)).tracer(tracer)
                     .instanceId("server-a").build();
             ChatService second = ChatService.builder().store(storeB).model(shared).agents(List.of(helper)).tracer(tracer)
                     .instanceId("server-b").build()) {
            shared.enqueue(Script.toolCalls(new ToolCall("call_5", "refund", "{}")));
            shared.enqueue(Script.reply("refunded"));
            TraceSpan sending = tracer.request("POST", "/api/v1/chat", "req-on-a", null);
            SendReceipt sent;
            MDC.put("request_id", "req-on-a"); // as the HTTP adapter does for the request's thread
            try (TraceSpan.Scope scope = sending.makeCurrent()) {
                sent = first.send(SendMessageCommand.newThread("alice", "refund order 5").withAgent("helper"));
            } finally {
                MDC.remove("request_id");
                sending.end();
            }
            awaitSpan("invoke_agent Helper");
            SpanData sentIn = span("POST /api/v1/chat");

            // when the second server decides on it
            ended.put("invoke_agent Helper", new CountDownLatch(1));
            second.decide(new ApprovalCommand("alice", sent.thread().id(), sent.run().id(), "call_5", ApprovalDecision.APPROVE, null));
            awaitSpan("invoke_agent Helper");

            // then the run's span there is linked to the request that sent it on the first
            List<SpanData> runs = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("invoke_agent Helper"))
                    .toList();
            assertThat(runs).hasSize(2);
            SpanData resumed = runs.get(1);
            assertThat(resumed.getAttributes().get(AttributeKey.stringKey("parley.run.status"))).isEqualTo("completed");
            assertThat(resumed.getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo("req-on-a");
            assertThat(resumed.getLinks()).singleElement().satisfies(link -> {
                assertThat(link.getSpanContext().getTraceId()).isEqualTo(sentIn.getTraceId());
                assertThat(link.getSpanContext().getSpanId()).isEqualTo(sentIn.getSpanId());
            });
        }
    }
}
