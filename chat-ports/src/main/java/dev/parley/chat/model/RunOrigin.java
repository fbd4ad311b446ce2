package dev.parley.chat.model;

/**
 * Where a run came from, kept with it so that whatever the run does later, on this server or
 * another, can be tied to the request that caused it: {@code requestId} (the id of the request that
 * sent its message, for log lines) and {@code traceContext} (a W3C {@code traceparent} of the
 * trace it was sent in, for spans). Either may be null; {@link #NONE} has neither.
 */
public record RunOrigin(String requestId, String traceContext) {
    /** The longest request id or trace context kept; longer values are dropped. */
    public static final int MAX_LENGTH = 128;

    /** No request id, no trace context. */
    public static final RunOrigin NONE = new RunOrigin(null, null);

    public RunOrigin {
        requestId = bounded(requestId);
        traceContext = bounded(traceContext);
    }

    /** True when there is nothing to keep. */
    public boolean isEmpty() {
        return requestId == null && traceContext == null;
    }

    private static String bounded(String value) {
        return value == null || value.isBlank() || value.length() > MAX_LENGTH ? null : value;
    }
}
