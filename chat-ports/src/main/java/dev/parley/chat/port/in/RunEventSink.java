package dev.parley.chat.port.in;

import dev.parley.chat.model.RunEvent;

/**
 * Where a push subscription hands one run's events ({@link RunUseCases#subscribe(String,
 * dev.parley.chat.model.ThreadId, dev.parley.chat.model.RunId, long, dev.parley.chat.model.DisconnectPolicy, RunEventSink)},
 * {@link dev.parley.chat.port.out.RunEventBus#subscribe(dev.parley.chat.model.RunId, long, RunEventSink)}).
 *
 * <p>What a subscription promises its sink:
 * <ul>
 *   <li>the run's events with {@code seq} greater than the one it was opened at, each once, in seq
 *       order, with no gap: first those already in the run's log, then the live ones as they are
 *       published, up to and including the terminal event;</li>
 *   <li>one call at a time: each call returns before the next begins (and happens-before it), on a
 *       delivery thread of the bus, never on the thread of the run that publishes;</li>
 *   <li>a sink that takes its time (a slow client) never holds up the run or other subscribers: nothing
 *       is queued for it but its position in the run's log, from which it goes on, reading the stored
 *       log when the bus no longer holds the events in memory;</li>
 *   <li>{@link #onEnd} exactly once, as the last call.</li>
 * </ul>
 * A call may block (writing to a slow socket, say): it holds up this subscription only. With virtual
 * threads (Java 21+) a blocked delivery costs a parked virtual thread; an idle subscription costs no
 * thread at all.
 */
public interface RunEventSink {

    /**
     * The run's next event. What this throws ends the subscription: no event follows, and
     * {@link #onEnd} gets the exception.
     */
    void onEvent(RunEvent event) throws Exception;

    /**
     * Everything the run has published so far was handed over (a good moment to flush): called once
     * the first catch-up is done (also when it found nothing), then after each burst of events. What
     * this throws ends the subscription as {@link #onEvent} does. Nothing by default.
     */
    default void onCaughtUp() throws Exception {
    }

    /**
     * The subscription is over; no call follows. {@code failure} is null after the terminal event and
     * when the subscription was closed (by its owner, or by the bus shutting down); otherwise it is
     * what {@link #onEvent} or {@link #onCaughtUp} threw, or why the log could not be read (a
     * {@link dev.parley.chat.model.StorageUnavailableException}, say). What this throws is logged and ignored.
     */
    void onEnd(Throwable failure);
}
