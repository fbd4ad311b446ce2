package dev.parley.chat.core;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.TraceSpan;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's tracer: a tracer's failures are logged (once per kind of call, then at debug) and
 * never reach a run; a span it could not begin is {@link TraceSpan#NONE}.
 */
final class SafeTracer implements RunTracer {
    private static final Logger log = LoggerFactory.getLogger(SafeTracer.class);

    private final RunTracer delegate;
    private volatile boolean warned;

    private SafeTracer(RunTracer delegate) {
        this.delegate = delegate;
    }

    /** {@code tracer} guarded, or {@link RunTracer#NONE} itself. */
    static RunTracer of(RunTracer tracer) {
        return tracer == RunTracer.NONE || tracer instanceof SafeTracer ? tracer : new SafeTracer(tracer);
    }

    private void failed(String what, RuntimeException e) {
        if (!warned) {
            warned = true;
            log.warn("the run tracer failed on {}; its later failures are logged at debug", what, e);
        } else {
            log.debug("the run tracer failed on {}", what, e);
        }
    }

    private TraceSpan span(String what, Supplier<TraceSpan> begin) {
        try {
            TraceSpan span = begin.get();
            return span == null ? TraceSpan.NONE : span;
        } catch (RuntimeException e) {
            failed(what, e);
            return TraceSpan.NONE;
        }
    }

    private void quietly(String what, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            failed(what, e);
        }
    }

    @Override
    public boolean isEnabled() {
        return delegate.isEnabled();
    }

    @Override
    public String currentContext() {
        try {
            return delegate.currentContext();
        } catch (RuntimeException e) {
            failed("currentContext", e);
            return null;
        }
    }

    @Override
    public TraceSpan request(String method, String route, String requestId, String traceparent) {
        return span("request", () -> delegate.request(method, route, requestId, traceparent));
    }

    @Override
    public TraceSpan frame(String protocol, String frameType, String requestId) {
        return span("frame", () -> delegate.frame(protocol, frameType, requestId));
    }

    @Override
    public void requestAnswered(TraceSpan request, int status) {
        quietly("requestAnswered", () -> delegate.requestAnswered(request, status));
    }

    @Override
    public TraceSpan transaction(String name, RunId runId) {
        return span("transaction", () -> delegate.transaction(name, runId));
    }

    @Override
    public TraceSpan run(Run run, String agentName, RunOrigin origin, boolean continued) {
        return span("run", () -> delegate.run(run, agentName, origin, continued));
    }

    @Override
    public void runEnded(TraceSpan span, Run ended) {
        quietly("runEnded", () -> delegate.runEnded(span, ended));
    }

    @Override
    public TraceSpan modelCall(TraceSpan run, ModelRequest request) {
        return span("modelCall", () -> delegate.modelCall(run, request));
    }

    @Override
    public void modelAnswered(TraceSpan call, ModelResponse response, Usage usage) {
        quietly("modelAnswered", () -> delegate.modelAnswered(call, response, usage));
    }

    @Override
    public TraceSpan toolCall(TraceSpan run, ToolCall call) {
        return span("toolCall", () -> delegate.toolCall(run, call));
    }

    @Override
    public void toolEnded(TraceSpan call, String output, String error) {
        quietly("toolEnded", () -> delegate.toolEnded(call, output, error));
    }

    @Override
    public TraceSpan linked(String name, RunId runId, RunOrigin origin) {
        return span("linked", () -> delegate.linked(name, runId, origin));
    }

    /** Ends {@code span}, logging a failure instead of throwing it. */
    static void end(TraceSpan span) {
        try {
            span.end();
        } catch (RuntimeException e) {
            log.debug("a span failed to end", e);
        }
    }
}
