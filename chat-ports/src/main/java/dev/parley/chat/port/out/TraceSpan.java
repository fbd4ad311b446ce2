package dev.parley.chat.port.out;

/**
 * One span begun by a {@link RunTracer}: what it records is up to the tracer. Ended exactly once by
 * whoever began it, on any thread; calls after {@link #end()} are ignored. {@link #NONE} records
 * nothing. Implementations are thread-safe, fast, and never throw (the core calls them on the run's path).
 */
public interface TraceSpan {

    /** A span that records nothing. */
    TraceSpan NONE = new TraceSpan() { };

    /** The operation failed: {@code errorType} is a short stable code, {@code description} safe to show an operator. */
    default void failed(String errorType, String description) {
    }

    /** The operation was cancelled before it finished (not a failure of its own). */
    default void cancelled() {
    }

    /**
     * Makes this span the current one on the calling thread until the returned scope is closed (on
     * the same thread): spans begun meanwhile without an explicit parent become its children.
     */
    default Scope makeCurrent() {
        return Scope.NONE;
    }

    /** {@code task}, run with this span as the current one on whichever thread runs it. */
    default Runnable wrap(Runnable task) {
        return task;
    }

    /** Ends the span. */
    default void end() {
    }

    /** The span's time as the current one on a thread; closed once, on the thread that opened it. */
    interface Scope extends AutoCloseable {
        /** A scope that changes nothing. */
        Scope NONE = () -> { };

        @Override
        void close();
    }
}
