package dev.parley.chat.core;

import dev.parley.chat.model.Require;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event log retention: removes the event logs of runs that ended longer than {@code retention}
 * ago, a bounded batch per store call, on the service's timers. The runs, their steps and messages
 * stay; {@code /events} of such a run answers {@code events_expired}. Every server may run it: the
 * store picks each log once.
 */
final class LogRetention {
    static final int BATCH = 200;
    private static final Duration LONGEST_PAUSE = Duration.ofHours(1);
    private static final Duration SHORTEST_PAUSE = Duration.ofMinutes(1);
    private static final Logger log = LoggerFactory.getLogger(LogRetention.class);

    private final Engine engine;
    private final Duration retention;

    LogRetention(Engine engine, Duration retention) {
        this.engine = engine;
        this.retention = Require.notNull(retention, "retention");
    }

    /** Starts the periodic passes when {@code retention} is set (not null, not zero); returns null otherwise. */
    static LogRetention start(Engine engine, Duration retention) {
        if (retention == null || retention.isZero()) {
            return null;
        }
        LogRetention keeper = new LogRetention(engine, retention);
        long pause = Math.max(SHORTEST_PAUSE.toMillis(), Math.min(LONGEST_PAUSE.toMillis(), retention.toMillis() / 4));
        engine.timers().scheduleWithFixedDelay(keeper::passQuietly, pause, pause, TimeUnit.MILLISECONDS);
        return keeper;
    }

    /** Removes every log past the retention at {@code now}; returns how many. */
    int pass(Instant now) {
        Instant endedBefore = now.minus(retention);
        int removed = 0;
        int batch;
        do {
            batch = engine.store().events().expire(endedBefore, BATCH);
            removed += batch;
        } while (batch == BATCH && !Thread.currentThread().isInterrupted());
        return removed;
    }

    private void passQuietly() {
        try {
            int removed = pass(engine.now());
            if (removed > 0) {
                log.info("event log retention removed the logs of {} runs that ended before {} ago", removed, retention);
            }
        } catch (RuntimeException e) {
            log.warn("event log retention pass failed, it runs again later: {}", e.toString());
        }
    }
}
