package dev.parley.chat.core;

import dev.parley.chat.model.ThreadId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empties the trash: threads soft-deleted longer than the retention ago are removed for good, by one
 * server at a time (the store's job lease {@value #JOB}), a small batch at a time, each thread in a
 * transaction of its own, so that no pass holds a long lock.
 */
final class TrashKeeper {
    private static final Logger log = LoggerFactory.getLogger(TrashKeeper.class);
    static final String JOB = "trash_purge";
    /** Threads looked up per batch. */
    static final int BATCH = 100;

    private final Engine engine;
    private final Duration retention;
    private final Duration interval;
    private final String holder;
    private final ScheduledFuture<?> task;
    /** A pass is under way (periodic passes never overlap). */
    private final AtomicBoolean running = new AtomicBoolean();

    /** Purges every {@code interval} (zero: never on its own) threads deleted more than {@code retention} ago (zero: never). */
    TrashKeeper(Engine engine, Duration retention, Duration interval, String holder, ScheduledExecutorService timers) {
        this.engine = engine;
        this.retention = retention;
        this.interval = interval;
        this.holder = holder;
        this.task = retention.isZero() || interval.isZero() ? null
                // the pass runs off the timers' threads, which renew the leases of runs
                : timers.scheduleWithFixedDelay(() -> {
                    if (running.compareAndSet(false, true)) {
                        try {
                            engine.toolExecutor().execute(this::purgeQuietly);
                        } catch (RejectedExecutionException e) {
                            running.set(false);
                        }
                    }
                }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void purgeQuietly() {
        try {
            purge();
        } catch (RuntimeException e) {
            log.warn("the trash purge failed; it tries again in {} ms: {}", interval.toMillis(), e.toString());
        } finally {
            running.set(false);
        }
    }

    /** One pass: how many threads it removed (0 when another server holds the job). */
    int purge() {
        if (retention.isZero()) {
            return 0;
        }
        Duration lease = interval.isZero() ? Duration.ofMinutes(5) : interval;
        Instant now = engine.now();
        if (!engine.store().leases().tryAcquire(JOB, holder, now, now.plus(lease))) {
            return 0;
        }
        int removed = 0;
        try {
            Instant cutoff = now.minus(retention);
            while (true) {
                List<ThreadId> batch = engine.store().threads().deletedBefore(cutoff, BATCH);
                for (ThreadId id : batch) {
                    if (engine.store().threads().purge(id, cutoff)) {
                        removed++;
                    }
                }
                Instant later = engine.now();
                if (batch.size() < BATCH || !engine.store().leases().tryAcquire(JOB, holder, later, later.plus(lease))) {
                    break;
                }
            }
        } finally {
            engine.store().leases().release(JOB, holder);
        }
        if (removed > 0) {
            log.info("the trash purge removed {} threads deleted before {}", removed, now.minus(retention));
        }
        return removed;
    }

    void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
