package dev.parley.benchmarks.load;

import dev.parley.benchmarks.Jdk;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/** Shared pieces of the load generators: the virtual-thread executor, open-loop pacing, histograms. */
public final class Load {
    /** One virtual thread per task: requests, stream readers, the fake model server. */
    public static final ExecutorService EXECUTOR = Jdk.perTaskExecutor("load");

    private Load() {}

    /** What one paced request does, given its index and the time it was due (System.nanoTime). */
    @FunctionalInterface
    public interface Request {
        void run(int index, long dueNanos) throws Exception;
    }

    /**
     * Open-loop load: starts request {@code i} at {@code start + i / rate} on a virtual thread of its
     * own, whether earlier ones are done or not, for {@code seconds}; then waits up to
     * {@code drainSeconds} for them to end. Latencies measured from the due time have no coordinated
     * omission. Returns the number of requests that did not end in time.
     */
    public static long paced(double ratePerSecond, double seconds, double drainSeconds, Request request, AtomicLong errors) {
        long period = (long) (1e9 / ratePerSecond);
        long count = (long) (ratePerSecond * seconds);
        Phaser inFlight = new Phaser(1);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        for (int i = 0; i < count; i++) {
            long due = start + i * period;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            int index = i;
            inFlight.register();
            EXECUTOR.execute(() -> {
                try {
                    request.run(index, due);
                } catch (Exception e) {
                    errors.incrementAndGet();
                    noteError(e);
                } finally {
                    inFlight.arriveAndDeregister();
                }
            });
        }
        int phase = inFlight.arrive();
        try {
            inFlight.awaitAdvanceInterruptibly(phase, (long) (drainSeconds * 1000), TimeUnit.MILLISECONDS);
            return 0;
        } catch (java.util.concurrent.TimeoutException e) {
            return inFlight.getUnarrivedParties();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return inFlight.getUnarrivedParties();
        }
    }

    private static final AtomicLong NOTED = new AtomicLong();

    /** Prints the first few errors of a run (the rest are only counted). */
    public static void noteError(Throwable e) {
        if (NOTED.incrementAndGet() <= 5) {
            System.err.println("    load error: " + e);
        }
    }

    /** A thread-safe histogram of microseconds, up to an hour. */
    public static Histogram histogram() {
        return new ConcurrentHistogram(TimeUnit.HOURS.toMicros(1), 3);
    }

    public static long micros(long nanos) {
        return Math.max(0, nanos / 1_000);
    }

    public static void sleep(double seconds) {
        try {
            Thread.sleep((long) (seconds * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
