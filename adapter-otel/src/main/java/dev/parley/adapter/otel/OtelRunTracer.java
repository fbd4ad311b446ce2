package dev.parley.adapter.otel;

import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.TraceSpan;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.Locale;

/**
 * A {@link RunTracer} over the OpenTelemetry API, naming spans and attributes after the
 * OpenTelemetry GenAI semantic conventions: the run is an {@code invoke_agent} span, each model call
 * a {@code chat} span, each tool call an {@code execute_tool} span, with {@code gen_ai.*} attributes
 * (model, token usage, finish reasons, tool name and call id). Message and tool content is
 * recorded only with {@link Builder#captureContent(boolean) captureContent(true)}.
 *
 * <pre>{@code
 * RunTracer tracer = OtelRunTracer.builder(openTelemetry).providerName("openai").build();
 * ChatService chat = ChatService.builder()...tracer(tracer).build();
 * }</pre>
 */
public final class OtelRunTracer implements RunTracer {
    /** The instrumentation scope of Parley's spans. */
    public static final String SCOPE = "dev.parley";

    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> AGENT_ID = AttributeKey.stringKey("gen_ai.agent.id");
    static final AttributeKey<String> AGENT_NAME = AttributeKey.stringKey("gen_ai.agent.name");
    static final AttributeKey<String> CONVERSATION = AttributeKey.stringKey("gen_ai.conversation.id");
    static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<Double> TEMPERATURE = AttributeKey.doubleKey("gen_ai.request.temperature");
    static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
    static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
    static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    /** The part of the input tokens read from the model's prompt cache; set only when there was any. */
    static final AttributeKey<Long> CACHE_READ_TOKENS = AttributeKey.longKey("gen_ai.usage.cache_read.input_tokens");
    static final AttributeKey<String> INPUT_MESSAGES = AttributeKey.stringKey("gen_ai.input.messages");
    static final AttributeKey<String> OUTPUT_MESSAGES = AttributeKey.stringKey("gen_ai.output.messages");
    static final AttributeKey<String> TOOL_NAME = AttributeKey.stringKey("gen_ai.tool.name");
    static final AttributeKey<String> TOOL_CALL_ID = AttributeKey.stringKey("gen_ai.tool.call.id");
    static final AttributeKey<String> TOOL_TYPE = AttributeKey.stringKey("gen_ai.tool.type");
    static final AttributeKey<String> TOOL_ARGUMENTS = AttributeKey.stringKey("gen_ai.tool.call.arguments");
    static final AttributeKey<String> TOOL_RESULT = AttributeKey.stringKey("gen_ai.tool.call.result");
    static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
    static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("network.protocol.name");
    static final AttributeKey<String> FRAME_TYPE = AttributeKey.stringKey("parley.frame.type");
    static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("parley.request_id");
    static final AttributeKey<String> RUN_ID = AttributeKey.stringKey("parley.run.id");
    static final AttributeKey<String> RUN_STATUS = AttributeKey.stringKey("parley.run.status");
    static final AttributeKey<Boolean> USAGE_ESTIMATED = AttributeKey.booleanKey("parley.usage.estimated");
    static final AttributeKey<Boolean> CONTINUED = AttributeKey.booleanKey("parley.run.continued");

    private static final TextMapGetter<String> TRACEPARENT = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(String carrier) {
            return List.of("traceparent");
        }

        @Override
        public String get(String carrier, String key) {
            return "traceparent".equals(key) ? carrier : null;
        }
    };

    private final Tracer tracer;
    private final boolean captureContent;
    private final String providerName;

    private OtelRunTracer(Builder b) {
        this.tracer = b.openTelemetry.getTracer(SCOPE);
        this.captureContent = b.captureContent;
        this.providerName = b.providerName;
    }

    /** A tracer over {@code openTelemetry} (e.g. {@code GlobalOpenTelemetry.get()} or an SDK built by the application). */
    public static Builder builder(OpenTelemetry openTelemetry) {
        return new Builder(openTelemetry);
    }

    /** Options of an {@link OtelRunTracer}. */
    public static final class Builder {
        private final OpenTelemetry openTelemetry;
        private boolean captureContent;
        private String providerName;

        private Builder(OpenTelemetry openTelemetry) {
            this.openTelemetry = Require.notNull(openTelemetry, "openTelemetry");
        }

        /**
         * Records message content ({@code gen_ai.input.messages}, {@code gen_ai.output.messages}) and
         * tool arguments and results on the spans; default false. Content may hold personal data:
         * turn it on only where the trace backend may keep it.
         */
        public Builder captureContent(boolean capture) {
            this.captureContent = capture;
            return this;
        }

        /** The {@code gen_ai.provider.name} of the model calls (e.g. {@code openai}, {@code ollama}); default none. */
        public Builder providerName(String name) {
            this.providerName = name == null || name.isBlank() ? null : name;
            return this;
        }

        public OtelRunTracer build() {
            return new OtelRunTracer(this);
        }
    }

    @Override
    public boolean isEnabled() {
        return true;
    }

    @Override
    public String currentContext() {
        return traceparent(Span.current().getSpanContext());
    }

    /** {@code context} as a W3C traceparent, or null when it is not valid. */
    static String traceparent(SpanContext context) {
        if (!context.isValid()) {
            return null;
        }
        return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
    }

    /** The span context of a W3C traceparent, or null when it is missing or not valid. */
    static SpanContext parse(String traceparent) {
        if (traceparent == null || traceparent.length() > RunOrigin.MAX_LENGTH) {
            return null;
        }
        if (traceparent.length() == 55 && traceparent.startsWith("00-") && traceparent.charAt(35) == '-' && traceparent.charAt(52) == '-') {
            // the version-00 form this tracer writes, read without the propagator's general parsing (a run reads one at its start)
            try {
                SpanContext context = SpanContext.createFromRemoteParent(traceparent.substring(3, 35), traceparent.substring(36, 52),
                        TraceFlags.fromHex(traceparent, 53), TraceState.getDefault());
                return context.isValid() ? context : null;
            } catch (RuntimeException e) {
                return null; // flags that are no hex
            }
        }
        Context extracted = W3CTraceContextPropagator.getInstance().extract(Context.root(), traceparent, TRACEPARENT);
        SpanContext context = Span.fromContext(extracted).getSpanContext();
        return context.isValid() ? context : null;
    }

    @Override
    public TraceSpan request(String method, String route, String requestId, String traceparent) {
        SpanContext remote = parse(traceparent);
        SpanBuilder b = tracer.spanBuilder(method + " " + route).setSpanKind(SpanKind.SERVER)
                .setAttribute(HTTP_METHOD, method)
                .setAttribute(HTTP_ROUTE, route);
        if (remote != null) {
            b.setParent(Context.root().with(Span.wrap(remote)));
        }
        if (requestId != null) {
            b.setAttribute(REQUEST_ID, requestId);
        }
        return new OtelSpan(b.startSpan());
    }

    /**
     * A frame as a server span named {@code <protocol> <frameType>} (e.g. {@code websocket chat}) with
     * {@code network.protocol.name}; no HTTP attributes, since a frame is not an HTTP request.
     */
    @Override
    public TraceSpan frame(String protocol, String frameType, String requestId) {
        SpanBuilder b = tracer.spanBuilder(protocol + " " + frameType).setSpanKind(SpanKind.SERVER)
                .setAttribute(PROTOCOL, protocol)
                .setAttribute(FRAME_TYPE, frameType);
        if (requestId != null) {
            b.setAttribute(REQUEST_ID, requestId);
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public void requestAnswered(TraceSpan request, int status) {
        if (request instanceof OtelSpan s) {
            s.span.setAttribute(HTTP_STATUS, (long) status);
            if (status >= 500) {
                s.span.setAttribute(OtelSpan.ERROR_TYPE, Integer.toString(status));
                s.span.setStatus(StatusCode.ERROR);
            }
        }
    }

    @Override
    public TraceSpan transaction(String name, RunId runId) {
        SpanBuilder b = tracer.spanBuilder("parley." + name).setSpanKind(SpanKind.INTERNAL);
        if (runId != null) {
            b.setAttribute(RUN_ID, runId.value());
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public TraceSpan run(Run run, String agentName, RunOrigin origin, boolean continued) {
        SpanContext from = origin == null ? null : parse(origin.traceContext());
        SpanBuilder b = tracer.spanBuilder("invoke_agent " + agentName).setSpanKind(SpanKind.INTERNAL)
                .setAttribute(OPERATION, "invoke_agent")
                .setAttribute(AGENT_ID, run.agentId())
                .setAttribute(AGENT_NAME, agentName)
                .setAttribute(CONVERSATION, run.threadId().value())
                .setAttribute(RUN_ID, run.id().value());
        if (run.model() != null) {
            b.setAttribute(REQUEST_MODEL, run.model());
        }
        if (providerName != null) {
            b.setAttribute(PROVIDER, providerName);
        }
        if (origin != null && origin.requestId() != null) {
            b.setAttribute(REQUEST_ID, origin.requestId());
        }
        if (from != null) {
            if (continued) {
                b.addLink(from);
            } else {
                b.setParent(Context.root().with(Span.wrap(from)));
            }
        }
        if (continued) {
            b.setAttribute(CONTINUED, true);
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public void runEnded(TraceSpan span, Run ended) {
        if (!(span instanceof OtelSpan s)) {
            return;
        }
        Span otel = s.span;
        otel.setAttribute(RUN_STATUS, ended.status().wireName());
        Usage usage = ended.usage();
        if (usage != null && (usage.inputTokens() > 0 || usage.outputTokens() > 0)) {
            otel.setAttribute(INPUT_TOKENS, usage.inputTokens());
            otel.setAttribute(OUTPUT_TOKENS, usage.outputTokens());
            if (usage.cachedInputTokens() > 0) {
                otel.setAttribute(CACHE_READ_TOKENS, usage.cachedInputTokens());
            }
            if (usage.estimated()) {
                otel.setAttribute(USAGE_ESTIMATED, true);
            }
        }
        if (ended.status() == RunStatus.FAILED && ended.error() != null) {
            s.failed(ended.error().code(), ended.error().message());
        } else if (ended.status() == RunStatus.CANCELLED) {
            s.cancelled();
        }
    }

    @Override
    public TraceSpan modelCall(TraceSpan run, ModelRequest request) {
        String model = request.model();
        SpanBuilder b = tracer.spanBuilder(model == null ? "chat" : "chat " + model).setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, "chat");
        Context parent = OtelSpan.contextOf(run);
        if (parent != null) {
            b.setParent(parent);
        }
        if (model != null) {
            b.setAttribute(REQUEST_MODEL, model);
        }
        if (providerName != null) {
            b.setAttribute(PROVIDER, providerName);
        }
        ModelSettings settings = request.settings();
        if (settings != null) {
            if (settings.temperature() != null) {
                b.setAttribute(TEMPERATURE, settings.temperature());
            }
            if (settings.maxOutputTokens() != null) {
                b.setAttribute(MAX_TOKENS, settings.maxOutputTokens().longValue());
            }
        }
        if (captureContent) {
            b.setAttribute(INPUT_MESSAGES, Content.input(request.messages()));
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public void modelAnswered(TraceSpan call, ModelResponse response, Usage usage) {
        if (!(call instanceof OtelSpan s)) {
            return;
        }
        Span otel = s.span;
        if (response.model() != null) {
            otel.setAttribute(RESPONSE_MODEL, response.model());
        }
        String finish = response.finishReason() != null ? response.finishReason()
                : response.hasToolCalls() ? "tool_calls" : "stop";
        otel.setAttribute(FINISH_REASONS, List.of(finish.toLowerCase(Locale.ROOT)));
        if (usage != null) {
            otel.setAttribute(INPUT_TOKENS, usage.inputTokens());
            otel.setAttribute(OUTPUT_TOKENS, usage.outputTokens());
            if (usage.cachedInputTokens() > 0) {
                otel.setAttribute(CACHE_READ_TOKENS, usage.cachedInputTokens());
            }
            if (usage.estimated()) {
                otel.setAttribute(USAGE_ESTIMATED, true);
            }
        }
        if (captureContent) {
            otel.setAttribute(OUTPUT_MESSAGES, Content.output(response.text(), response.toolCalls(), finish));
        }
    }

    @Override
    public TraceSpan toolCall(TraceSpan run, ToolCall call) {
        SpanBuilder b = tracer.spanBuilder("execute_tool " + call.name()).setSpanKind(SpanKind.INTERNAL)
                .setAttribute(OPERATION, "execute_tool")
                .setAttribute(TOOL_NAME, call.name())
                .setAttribute(TOOL_TYPE, "function");
        if (call.id() != null) {
            b.setAttribute(TOOL_CALL_ID, call.id());
        }
        Context parent = OtelSpan.contextOf(run);
        if (parent != null) {
            b.setParent(parent);
        }
        if (captureContent && call.arguments() != null) {
            b.setAttribute(TOOL_ARGUMENTS, call.arguments());
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public void toolEnded(TraceSpan call, String output, String error) {
        if (captureContent && call instanceof OtelSpan s) {
            s.span.setAttribute(TOOL_RESULT, error != null ? error : output == null ? "" : output);
        }
    }

    @Override
    public TraceSpan linked(String name, RunId runId, RunOrigin origin) {
        SpanBuilder b = tracer.spanBuilder("parley." + name).setSpanKind(SpanKind.INTERNAL)
                .setAttribute(RUN_ID, runId.value());
        SpanContext from = origin == null ? null : parse(origin.traceContext());
        if (from != null) {
            b.addLink(from);
        }
        if (origin != null && origin.requestId() != null) {
            b.setAttribute(REQUEST_ID, origin.requestId());
        }
        return new OtelSpan(b.startSpan());
    }
}
