package dev.parley.chat.port.out;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;

/**
 * Traces what the chat service and its transports do as spans: a request, the run it starts, each
 * model call and tool call of the run, and the store transactions that send a message and end a
 * run. The core speaks to it in its own terms; the tracer decides names and attributes (an
 * OpenTelemetry tracer maps them to the GenAI semantic conventions). Every method has a default
 * that records nothing, and {@link #NONE} records nothing at all.
 *
 * <p>A span is begun as a child of the span current on the calling thread unless a parent is
 * given. A run keeps its {@link RunOrigin#traceContext()} (the context it was sent in) in the store, so
 * that a run continued later or elsewhere (resumed after an approval, ended by another server) is
 * linked to the trace it began in.
 *
 * <p>Methods are called from many threads at once and must be fast and never throw: an exception
 * is logged by the caller and otherwise ignored. Message and tool content is never recorded unless
 * the tracer was configured to.
 */
public interface RunTracer {

    /** A tracer that records nothing. */
    RunTracer NONE = new RunTracer() { };

    /** True when this tracer records spans at all (false lets callers skip preparing them). */
    default boolean isEnabled() {
        return false;
    }

    /** The trace context current on the calling thread as a W3C {@code traceparent}, or null. */
    default String currentContext() {
        return null;
    }

    /**
     * A request of a transport ({@code method} and {@code route} template, e.g. {@code POST} and
     * {@code /api/v1/threads/{id}/messages}); a child of {@code traceparent} (the client's W3C header,
     * null for none) when valid, else a new trace. The caller makes it current while it handles the request.
     */
    default TraceSpan request(String method, String route, String requestId, String traceparent) {
        return TraceSpan.NONE;
    }

    /**
     * A message of a long-lived connection that is not an HTTP request of its own: a frame of type
     * {@code frameType} (e.g. {@code chat}, {@code cancel}) over {@code protocol} (e.g. {@code websocket}).
     * The caller makes it current while it handles the frame.
     */
    default TraceSpan frame(String protocol, String frameType, String requestId) {
        return TraceSpan.NONE;
    }

    /** The request answered with HTTP {@code status} (for a stream: the status it began with). */
    default void requestAnswered(TraceSpan request, int status) {
    }

    /** A store transaction of the chat flow ({@code send}, {@code end}), for run {@code runId} when known (else null). */
    default TraceSpan transaction(String name, RunId runId) {
        return TraceSpan.NONE;
    }

    /**
     * A run executing here, with {@code agentName}. A fresh run is a child of its origin's trace
     * context (the request that sent it, on this server or another); a {@code continued} run (resumed
     * after a pause) is a child of the current span and linked to its origin.
     */
    default TraceSpan run(Run run, String agentName, RunOrigin origin, boolean continued) {
        return TraceSpan.NONE;
    }

    /** The run of span {@code span} stopped executing here as {@code ended} (terminal, or paused for approval). */
    default void runEnded(TraceSpan span, Run ended) {
    }

    /** One model call of the run of span {@code run}. */
    default TraceSpan modelCall(TraceSpan run, ModelRequest request) {
        return TraceSpan.NONE;
    }

    /** The model answered call {@code call} with {@code response}; {@code usage} as counted (estimated when the model gave none). */
    default void modelAnswered(TraceSpan call, ModelResponse response, Usage usage) {
    }

    /** One tool call of the run of span {@code run}. */
    default TraceSpan toolCall(TraceSpan run, ToolCall call) {
        return TraceSpan.NONE;
    }

    /** Tool call {@code call} ended with {@code output}, or with {@code error} (the text the model is told). */
    default void toolEnded(TraceSpan call, String output, String error) {
    }

    /**
     * Work on a run whose trace began elsewhere or earlier ({@code cancel}, {@code reap}): a child of
     * the current span, linked to the run's origin.
     */
    default TraceSpan linked(String name, RunId runId, RunOrigin origin) {
        return TraceSpan.NONE;
    }
}
