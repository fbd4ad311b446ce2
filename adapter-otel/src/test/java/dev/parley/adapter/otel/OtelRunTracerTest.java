package dev.parley.adapter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.TraceSpan;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OtelRunTracerTest {
    private static final Instant NOW = Instant.parse("2026-12-05T10:00:00Z");
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
            .build();

    @AfterEach
    void close() {
        sdk.close();
    }

    private static Run aRun() {
        return Run.queued(new RunId("run_01"), new ThreadId("thr_01"), "helper", "gpt-test", new MessageId("msg_01"), NOW).started(NOW);
    }

    private static ModelRequest aRequest() {
        return new ModelRequest("gpt-test", List.of(Message.user(new MessageId("msg_01"), new ThreadId("thr_01"),
                List.of(dev.parley.chat.model.ContentPart.text("secret question")), NOW)), List.of(), new ModelSettings(0.2, 300, null));
    }

    private SpanData only(String name) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void should_name_a_model_call_after_the_genai_conventions_without_content() {
        // given
        OtelRunTracer tracer = OtelRunTracer.builder(sdk).providerName("openai").build();
        TraceSpan run = tracer.run(aRun(), "helper", RunOrigin.NONE, false);

        // when
        TraceSpan call = tracer.modelCall(run, aRequest());
        tracer.modelAnswered(call, new ModelResponse("secret answer", List.of(), new Usage(12, 5, false), "stop", "gpt-test-2026"),
                new Usage(12, 5, false));
        call.end();
        tracer.runEnded(run, aRun().completed(NOW, new MessageId("msg_02"), new Usage(12, 5, false), null));
        run.end();

        // then
        SpanData chat = only("chat gpt-test");
        SpanData agent = only("invoke_agent helper");
        assertThat(chat.getKind()).isEqualTo(SpanKind.CLIENT);
        assertThat(chat.getParentSpanId()).isEqualTo(agent.getSpanId());
        assertThat(chat.getAttributes().get(OtelRunTracer.OPERATION)).isEqualTo("chat");
        assertThat(chat.getAttributes().get(OtelRunTracer.PROVIDER)).isEqualTo("openai");
        assertThat(chat.getAttributes().get(OtelRunTracer.REQUEST_MODEL)).isEqualTo("gpt-test");
        assertThat(chat.getAttributes().get(OtelRunTracer.RESPONSE_MODEL)).isEqualTo("gpt-test-2026");
        assertThat(chat.getAttributes().get(OtelRunTracer.TEMPERATURE)).isEqualTo(0.2);
        assertThat(chat.getAttributes().get(OtelRunTracer.MAX_TOKENS)).isEqualTo(300L);
        assertThat(chat.getAttributes().get(OtelRunTracer.FINISH_REASONS)).containsExactly("stop");
        assertThat(chat.getAttributes().get(OtelRunTracer.INPUT_TOKENS)).isEqualTo(12L);
        assertThat(chat.getAttributes().get(OtelRunTracer.OUTPUT_TOKENS)).isEqualTo(5L);
        assertThat(agent.getAttributes().get(OtelRunTracer.CONVERSATION)).isEqualTo("thr_01");
        assertThat(agent.getAttributes().get(OtelRunTracer.RUN_STATUS)).isEqualTo("completed");
        assertThat(exporter.getFinishedSpanItems()).allSatisfy(s -> assertThat(s.getAttributes().asMap().values().toString())
                .doesNotContain("secret"));
    }

    @Test
    void should_record_the_input_tokens_read_from_the_prompt_cache_only_when_there_were_any() {
        // given
        OtelRunTracer tracer = OtelRunTracer.builder(sdk).build();
        TraceSpan run = tracer.run(aRun(), "helper", RunOrigin.NONE, false);
        Usage cached = new Usage(1_200, 1_024, 30, false);

        // when
        TraceSpan call = tracer.modelCall(run, aRequest());
        tracer.modelAnswered(call, new ModelResponse("ok", List.of(), cached, "stop", "gpt-test"), cached);
        call.end();
        TraceSpan plain = tracer.modelCall(run, aRequest());
        tracer.modelAnswered(plain, new ModelResponse("ok", List.of(), new Usage(10, 1, false), "stop", "gpt-test"),
                new Usage(10, 1, false));
        plain.end();
        tracer.runEnded(run, aRun().completed(NOW, new MessageId("msg_02"), cached.plus(new Usage(10, 1, false)), null));
        run.end();

        // then
        assertThat(exporter.getFinishedSpanItems()).filteredOn(s -> s.getName().startsWith("chat"))
                .extracting(s -> s.getAttributes().get(OtelRunTracer.CACHE_READ_TOKENS)).containsExactly(1_024L, null);
        assertThat(only("invoke_agent helper").getAttributes().get(OtelRunTracer.CACHE_READ_TOKENS)).isEqualTo(1_024L);
    }

    @Test
    void should_record_content_only_when_asked_to() {
        // given
        OtelRunTracer tracer = OtelRunTracer.builder(sdk).captureContent(true).build();

        // when
        TraceSpan call = tracer.modelCall(TraceSpan.NONE, aRequest());
        tracer.modelAnswered(call, ModelResponse.text("secret \"answer\"", null), null);
        call.end();
        TraceSpan tool = tracer.toolCall(TraceSpan.NONE, new ToolCall("call_1", "lookup", "{\"q\":\"secret\"}"));
        tracer.toolEnded(tool, "found it", null);
        tool.end();

        // then
        assertThat(only("chat gpt-test").getAttributes().get(OtelRunTracer.INPUT_MESSAGES))
                .isEqualTo("[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"secret question\"}]}]");
        assertThat(only("chat gpt-test").getAttributes().get(OtelRunTracer.OUTPUT_MESSAGES))
                .isEqualTo("[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"secret \\\"answer\\\"\"}],"
                        + "\"finish_reason\":\"stop\"}]");
        SpanData toolSpan = only("execute_tool lookup");
        assertThat(toolSpan.getAttributes().get(OtelRunTracer.TOOL_CALL_ID)).isEqualTo("call_1");
        assertThat(toolSpan.getAttributes().get(OtelRunTracer.TOOL_ARGUMENTS)).isEqualTo("{\"q\":\"secret\"}");
        assertThat(toolSpan.getAttributes().get(OtelRunTracer.TOOL_RESULT)).isEqualTo("found it");
    }

    @Test
    void should_continue_the_clients_trace_and_mark_server_errors() {
        // given
        OtelRunTracer tracer = OtelRunTracer.builder(sdk).build();
        String clients = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        // when
        TraceSpan request = tracer.request("POST", "/api/v1/chat", "req_1", clients);
        tracer.requestAnswered(request, 500);
        request.end();
        TraceSpan untrusted = tracer.request("GET", "/health", "req_2", "not-a-traceparent");
        untrusted.end();

        // then
        SpanData server = only("POST /api/v1/chat");
        assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(server.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
        assertThat(server.getParentSpanId()).isEqualTo("b7ad6b7169203331");
        assertThat(server.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(server.getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo("req_1");
        assertThat(only("GET /health").getParentSpanContext().isValid()).isFalse();
    }

    @Test
    void should_trace_a_websocket_frame_as_a_frame_not_as_an_http_request() {
        // given
        OtelRunTracer tracer = OtelRunTracer.builder(sdk).build();

        // when
        tracer.frame("websocket", "chat", "req_ws").end();

        // then
        SpanData frame = exporter.getFinishedSpanItems().get(0);
        assertThat(frame.getName()).isEqualTo("websocket chat");
        assertThat(frame.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(frame.getAttributes().get(AttributeKey.stringKey("network.protocol.name"))).isEqualTo("websocket");
        assertThat(frame.getAttributes().get(AttributeKey.stringKey("parley.frame.type"))).isEqualTo("chat");
        assertThat(frame.getAttributes().get(AttributeKey.stringKey("parley.request_id"))).isEqualTo("req_ws");
        assertThat(frame.getAttributes().get(AttributeKey.stringKey("http.request.method"))).isNull();
    }

    @Test
    void should_read_back_the_trace_contexts_it_writes_and_refuse_broken_ones() {
        String written = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        assertThat(OtelRunTracer.traceparent(OtelRunTracer.parse(written))).isEqualTo(written);
        assertThat(OtelRunTracer.parse("00-00000000000000000000000000000000-b7ad6b7169203331-01")).isNull();
        assertThat(OtelRunTracer.parse("00-0af7651916cd43dd8448eb211c80319c-zzzzzzzzzzzzzzzz-01")).isNull();
        assertThat(OtelRunTracer.parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331")).isNull();
        assertThat(OtelRunTracer.parse(null)).isNull();
        assertThat(OtelRunTracer.parse("x".repeat(500))).isNull();
    }

    @Test
    void should_make_a_run_a_child_of_its_origin_and_link_a_continued_run_to_it() {
        // given
        OtelRunTracer tracer = OtelRunTracer.builder(sdk).build();
        TraceSpan request = tracer.request("POST", "/api/v1/chat", "req_1", null);
        String origin;
        try (TraceSpan.Scope scope = request.makeCurrent()) {
            origin = tracer.currentContext();
        }
        request.end();

        // when
        TraceSpan fresh = tracer.run(aRun(), "helper", new RunOrigin("req_1", origin), false);
        tracer.runEnded(fresh, aRun().requiringAction());
        fresh.end();
        TraceSpan continued = tracer.run(aRun(), "helper", new RunOrigin("req_2", origin), true);
        tracer.runEnded(continued, aRun().failed(NOW, new RunError("model_error", "The model failed"), null, Usage.ZERO, null));
        continued.end();
        TraceSpan cancel = tracer.linked("cancel", aRun().id(), new RunOrigin("req_1", origin));
        cancel.end();

        // then
        SpanData server = only("POST /api/v1/chat");
        List<SpanData> runs = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("invoke_agent helper")).toList();
        assertThat(runs.get(0).getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(runs.get(0).getAttributes().get(OtelRunTracer.RUN_STATUS)).isEqualTo("requires_action");
        assertThat(runs.get(1).getTraceId()).isNotEqualTo(server.getTraceId());
        assertThat(runs.get(1).getLinks()).singleElement().satisfies(l -> {
            assertThat(l.getSpanContext().getTraceId()).isEqualTo(server.getTraceId());
            assertThat(l.getSpanContext().getSpanId()).isEqualTo(server.getSpanId());
        });
        assertThat(runs.get(1).getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(runs.get(1).getAttributes().get(OtelSpan.ERROR_TYPE)).isEqualTo("model_error");
        assertThat(only("parley.cancel").getLinks()).singleElement()
                .satisfies(l -> assertThat(l.getSpanContext().getSpanId()).isEqualTo(server.getSpanId()));
    }
}
