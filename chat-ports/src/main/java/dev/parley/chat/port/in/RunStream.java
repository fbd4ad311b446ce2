package dev.parley.chat.port.in;

import dev.parley.chat.model.RunEvent;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What a driving adapter follows a run with ({@link RunUseCases#subscribe}): a reader of one run's events in seq order, starting after the seq it was opened at. Reading is
 * pull-based and each subscription keeps its own cursor into the shared log, so a slow reader
 * never holds up the run or other readers. Not thread-safe: one reader thread per subscription.
 */
public interface RunStream extends AutoCloseable {

    /**
     * The next event, waiting at most {@code timeout}; empty when none arrived in time (the caller
     * may send a heartbeat) or after the terminal event was returned or the subscription closed.
     */
    Optional<RunEvent> next(Duration timeout) throws InterruptedException;

    /**
     * Follows the run to its end: hands every further event to {@code action}, in seq order, on the
     * calling thread, and returns after the terminal event or once the subscription was closed
     * (from another thread, say). It blocks meanwhile; it does not close the subscription. What
     * {@code action} throws ends the loop and propagates.
     *
     * <pre>{@code
     * try (RunStream events = chat.subscribe(user, threadId, runId, 0, DisconnectPolicy.CONTINUE)) {
     *     events.forEach(event -> {
     *         if (event instanceof RunEvent.Token token) {
     *             System.out.print(token.content());
     *         }
     *     });
     * }
     * }</pre>
     *
     * @throws InterruptedException when the calling thread is interrupted while waiting
     */
    default void forEach(Consumer<? super RunEvent> action) throws InterruptedException {
        while (!isFinished()) {
            Optional<RunEvent> next = next(Duration.ofSeconds(10));
            if (next.isPresent()) {
                action.accept(next.get());
            }
        }
    }

    /** True once the terminal event has been returned or the subscription was closed. */
    boolean isFinished();

    /** Stops reading; a blocked {@link #next} returns empty. Idempotent. */
    @Override
    void close();
}
