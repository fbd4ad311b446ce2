package dev.parley.adapter.otel;

import dev.parley.chat.port.out.TraceSpan;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;

/** A {@link TraceSpan} over an OpenTelemetry span. */
final class OtelSpan implements TraceSpan {
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<Boolean> CANCELLED = AttributeKey.booleanKey("parley.cancelled");

    final Span span;

    OtelSpan(Span span) {
        this.span = span;
    }

    /** The OpenTelemetry context of {@code span} as a parent, or null when it is not one of ours. */
    static Context contextOf(TraceSpan span) {
        return span instanceof OtelSpan o ? Context.current().with(o.span) : null;
    }

    @Override
    public void failed(String errorType, String description) {
        span.setAttribute(ERROR_TYPE, errorType == null ? "_OTHER" : errorType);
        span.setStatus(StatusCode.ERROR, description == null ? (errorType == null ? "" : errorType) : description);
    }

    @Override
    public void cancelled() {
        span.setAttribute(CANCELLED, true);
    }

    @Override
    public TraceSpan.Scope makeCurrent() {
        io.opentelemetry.context.Scope scope = span.makeCurrent();
        return scope::close;
    }

    @Override
    public Runnable wrap(Runnable task) {
        return Context.current().with(span).wrap(task);
    }

    @Override
    public void end() {
        span.end();
    }
}
