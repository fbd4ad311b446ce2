package dev.parley.adapter.http;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one timer of every stream's heartbeats in the process: a single scheduled thread (a daemon)
 * for all streams of all APIs, where each open stream has one pending task at a time. The timer only
 * decides; a heartbeat is written on a thread of its own ({@link #write}), so that a client that does
 * not read never holds up the timer.
 */
final class Heartbeats {
    private static final ScheduledThreadPoolExecutor TIMER = timer();
    private static final Executor WRITERS = Threads.executor("parley-heartbeat-");

    private Heartbeats() {
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "parley-heartbeats");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true); // a stream that ends takes its pending task with it
        return timer;
    }

    /** Runs {@code check} on the timer after {@code delayNanos}; it must return at once. */
    static ScheduledFuture<?> schedule(Runnable check, long delayNanos) {
        return TIMER.schedule(check, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code write} (which may block on a slow client) on a thread of its own. */
    static void write(Runnable write) {
        WRITERS.execute(write);
    }
}
