package dev.parley.adapter.openai;

import java.util.concurrent.CompletableFuture;

/**
 * One HTTP exchange that can be aborted from any thread: by the run's cancellation or by the
 * watchdog. Aborting cancels the pending {@code sendAsync} future (which aborts the request while
 * the response headers are awaited) and closes the response body stream (which, on HTTP/1.1,
 * closes the connection so the server stops generating). The first abort reason wins.
 */
final class Exchange {

    /** Why an exchange was aborted. */
    enum Abort { CANCELLED, FIRST_TOKEN_TIMEOUT, IDLE_TIMEOUT, TOTAL_TIMEOUT }

    private final Object lock = new Object();
    private Abort reason;
    private CompletableFuture<?> pending;
    private AutoCloseable body;

    /** Remembers the future of the request; cancels it at once when already aborted. */
    void attach(CompletableFuture<?> future) {
        synchronized (lock) {
            if (reason == null) {
                pending = future;
                return;
            }
        }
        future.cancel(true);
    }

    /**
     * Remembers the response body (a stream, or what stops a body read as it arrives); closes it at once when
     * already aborted.
     */
    void attach(AutoCloseable stream) {
        synchronized (lock) {
            if (reason == null) {
                body = stream;
                return;
            }
        }
        closeQuietly(stream);
    }

    /** Aborts the exchange; returns false when it was aborted before. */
    boolean abort(Abort why) {
        CompletableFuture<?> f;
        AutoCloseable in;
        synchronized (lock) {
            if (reason != null) {
                return false;
            }
            reason = why;
            f = pending;
            in = body;
            pending = null;
            body = null;
        }
        if (f != null) {
            f.cancel(true);
        }
        if (in != null) {
            closeQuietly(in);
        }
        return true;
    }

    /** Releases the connection after a normal end (no abort reason is recorded). */
    void close() {
        CompletableFuture<?> f;
        AutoCloseable in;
        synchronized (lock) {
            f = pending;
            in = body;
            pending = null;
            body = null;
        }
        if (f != null) {
            f.cancel(true);
        }
        if (in != null) {
            closeQuietly(in);
        }
    }

    /** The reason of the abort, or null while not aborted. */
    Abort abortReason() {
        synchronized (lock) {
            return reason;
        }
    }

    private static void closeQuietly(AutoCloseable in) {
        try {
            in.close();
        } catch (Exception ignored) {
            // the stream is being torn down; nothing more can be done
        }
    }
}
