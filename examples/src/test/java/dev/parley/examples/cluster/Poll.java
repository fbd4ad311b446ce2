package dev.parley.examples.cluster;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Waiting for a condition the test cannot be told about: polled with growing pauses until it holds. */
public final class Poll {
    /** A condition to poll; it may throw (a request, a query). */
    @FunctionalInterface
    public interface Check {
        boolean holds() throws Exception;
    }

    private Poll() {}

    /** Polls {@code check} until it holds (pauses from 10 ms, doubling up to 250 ms); fails after {@code timeout}. */
    public static void until(String what, Duration timeout, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMillis = 10;
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            TimeUnit.MILLISECONDS.sleep(pauseMillis);
            pauseMillis = Math.min(pauseMillis * 2, 250);
        }
    }
}
