package dev.parley.adapter.openai;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Aborts an {@link Exchange} when it stalls: no first data within the first-token timeout, no
 * data for the idle timeout after that, or the whole call past its deadline. {@link #activity()}
 * costs one clock read and one volatile write; the scheduled check re-arms itself only when it
 * wakes up early, so a stream of thousands of tokens schedules a handful of tasks.
 */
final class Watchdog implements Runnable {
    private final ScheduledExecutorService scheduler;
    private final Exchange exchange;
    private final long totalDeadline;
    private final long firstTokenNanos;
    private final long idleNanos;
    private final Object lock = new Object();
    private volatile long phaseDeadline;
    private volatile boolean receiving;
    private boolean stopped;
    private ScheduledFuture<?> task;
    private long scheduledFor;

    /**
     * @param totalDeadline   {@link System#nanoTime()} after which the call is over
     * @param firstTokenNanos longest wait for the first data, or {@code Long.MAX_VALUE}
     * @param idleNanos       longest gap between data, or {@code Long.MAX_VALUE}
     */
    Watchdog(ScheduledExecutorService scheduler, Exchange exchange, long totalDeadline, long firstTokenNanos, long idleNanos) {
        this.scheduler = scheduler;
        this.exchange = exchange;
        this.totalDeadline = totalDeadline;
        this.firstTokenNanos = firstTokenNanos;
        this.idleNanos = idleNanos;
    }

    /** Starts watching; the first-token clock starts now. */
    Watchdog start() {
        phaseDeadline = plus(System.nanoTime(), firstTokenNanos);
        schedule(System.nanoTime());
        return this;
    }

    /** Data arrived: the idle clock starts over. */
    void activity() {
        long deadline = plus(System.nanoTime(), idleNanos);
        phaseDeadline = deadline;
        if (!receiving) {
            // the idle timeout may be shorter than the first-token one: wake up earlier
            receiving = true;
            rescheduleIfEarlier(deadline);
        }
    }

    /** Allows {@code nanos} more from now, and no more (e.g. to read the end of a finished body). */
    void extend(long nanos) {
        long deadline = plus(System.nanoTime(), nanos);
        receiving = true;
        phaseDeadline = deadline;
        rescheduleIfEarlier(deadline);
    }

    /** Stops watching; a check already running may still abort. */
    void stop() {
        synchronized (lock) {
            stopped = true;
            if (task != null) {
                task.cancel(false);
                task = null;
            }
        }
    }

    @Override
    public void run() {
        synchronized (lock) {
            if (stopped) {
                return;
            }
        }
        long now = System.nanoTime();
        long phase = phaseDeadline;
        boolean totalOver = now - totalDeadline >= 0;
        boolean phaseOver = now - phase >= 0;
        if (phaseOver && (!totalOver || phase - totalDeadline < 0)) {
            exchange.abort(receiving ? Exchange.Abort.IDLE_TIMEOUT : Exchange.Abort.FIRST_TOKEN_TIMEOUT);
        } else if (totalOver) {
            exchange.abort(Exchange.Abort.TOTAL_TIMEOUT);
        } else {
            schedule(now);
            return;
        }
        stop();
    }

    private void schedule(long now) {
        long next = Math.max(0, Math.min(phaseDeadline - now, totalDeadline - now));
        synchronized (lock) {
            if (!stopped) {
                scheduledFor = now + next;
                task = scheduler.schedule(this, next, TimeUnit.NANOSECONDS);
            }
        }
    }

    private void rescheduleIfEarlier(long deadline) {
        synchronized (lock) {
            if (stopped || (task != null && deadline - scheduledFor >= 0)) {
                return;
            }
            if (task != null) {
                task.cancel(false);
            }
        }
        schedule(System.nanoTime());
    }

    private static long plus(long now, long nanos) {
        return nanos >= Long.MAX_VALUE / 2 ? now + Long.MAX_VALUE / 2 : now + nanos;
    }
}
