package dev.parley.chat.port.in;

import dev.parley.chat.model.RunEvent;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The pull form of a subscription to one run's events ({@link RunUseCases#subscribe(String,
 * dev.parley.chat.model.ThreadId, dev.parley.chat.model.RunId, long, dev.parley.chat.model.DisconnectPolicy)}):
 * a reader of the run's events in seq order, starting after the seq it was opened at, for code that
 * would rather wait for events on a thread of its own than be called ({@link RunEventSink}). It is built
 * on the push subscription: a slow reader never holds up the run or other readers. Not thread-safe:
 * one reader thread per stream.
 */
public interface RunStream extends AutoCloseable {

    /**
     * The pull form of the push subscription {@code subscribe} opens with the sink it is given: the
     * subscription's events are queued (a bounded number; past it, the delivery waits for the reader)
     * and read with {@link #next}; closing the stream closes the subscription. The first read waits for
     * the subscription's first catch-up, so a read that does not wait still sees every event the log
     * held when the stream was opened. What {@code subscribe} throws is thrown here.
     */
    static RunStream of(Function<? super RunEventSink, ? extends Subscription> subscribe) {
        return PulledRunStream.open(subscribe);
    }

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
