package dev.parley.chat.port.out;

import dev.parley.chat.model.RunEvent;
import java.time.Duration;
import java.util.Optional;

/**
 * A reader of one run's events in seq order, starting after the seq it was opened at. Reading is
 * pull-based and each subscription keeps its own cursor into the shared log, so a slow reader
 * never holds up the run or other readers. Not thread-safe: one reader thread per subscription.
 */
public interface RunSubscription extends AutoCloseable {

    /**
     * The next event, waiting at most {@code timeout}; empty when none arrived in time (the caller
     * may send a heartbeat) or after the terminal event was returned or the subscription closed.
     */
    Optional<RunEvent> next(Duration timeout) throws InterruptedException;

    /** True once the terminal event has been returned or the subscription was closed. */
    boolean isFinished();

    /** Stops reading; a blocked {@link #next} returns empty. Idempotent. */
    @Override
    void close();
}
