package dev.parley.chat.core;

import dev.parley.chat.model.RunOrigin;
import org.slf4j.MDC;

/**
 * The SLF4J MDC keys of a run's log lines: {@code run_id}, {@code thread_id}, and {@code request_id}
 * (the request that sent the run, or that continued it). A transport puts {@code request_id} in the
 * MDC of the thread that handles a request; a send keeps it with the run.
 */
final class RunMdc {
    static final String REQUEST_ID = "request_id";
    static final String RUN_ID = "run_id";
    static final String THREAD_ID = "thread_id";

    private RunMdc() {
    }

    /** The request id in the calling thread's MDC, or null. */
    static String requestId() {
        return MDC.get(REQUEST_ID);
    }

    /** Where a run sent or continued on the calling thread comes from: its request id and trace context. */
    static RunOrigin here(Engine engine) {
        return new RunOrigin(requestId(), engine.tracer().currentContext());
    }

    /**
     * Puts the run's keys on the calling thread (a null {@code requestId} leaves the thread's own);
     * returns the thread's request id before, to give {@link #clear} when the run's work there ends.
     */
    static String put(String runId, String threadId, String requestId) {
        String before = MDC.get(REQUEST_ID);
        MDC.put(RUN_ID, runId);
        MDC.put(THREAD_ID, threadId);
        if (requestId != null) {
            MDC.put(REQUEST_ID, requestId);
        }
        return before;
    }

    /** Removes the run's keys from the calling thread, giving it back its request id {@code before}. */
    static void clear(String before) {
        MDC.remove(RUN_ID);
        MDC.remove(THREAD_ID);
        if (before == null) {
            MDC.remove(REQUEST_ID);
        } else {
            MDC.put(REQUEST_ID, before);
        }
    }
}
