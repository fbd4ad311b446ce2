package dev.parley.adapter.jdbc;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/** Stopping the store's background executors. */
final class Background {
    private Background() {}

    /**
     * Stops {@code executor}: no new task starts, a task under way finishes first (for up to {@code seconds}, then it is
     * interrupted). An interrupt of the calling thread interrupts the task at once and stays set.
     */
    static void stop(ExecutorService executor, long seconds) {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(seconds, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
