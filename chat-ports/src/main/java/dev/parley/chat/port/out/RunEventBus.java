package dev.parley.chat.port.out;

import dev.parley.chat.model.EventLogRules;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.Subscription;
import java.util.function.Supplier;

/**
 * Carries run events from the run engine to every subscriber, live or late. The bus owns the event
 * log: it persists what it publishes (to a {@link RunEventStore}) and replays from it, so
 * {@link #subscribe} works for a run that is live, finished, or (with a shared store) executing
 * on another server. A subscriber is pushed the events ({@link RunEventSink}); a publisher never
 * waits for a subscriber. Thread-safe.
 */
public interface RunEventBus {

    /**
     * Publishes the run's next event. Events of one run are published by one writer at a time and
     * keep {@link EventLogRules} (seq {@code lastSeq + 1}, nothing after the terminal event); anything
     * else is an IllegalArgumentException. A terminal event is durable when this returns.
     */
    void publish(RunEvent event);

    /**
     * Publishes the run's terminal {@code event} together with {@code work}: runs {@code work} in a
     * transaction of {@code store} and returns its result. A bus that persists to {@code store.events()}
     * stores the event, with every event of the run it still buffers, in that same transaction, so that
     * the run's last changes and its terminal event commit together (one commit instead of two); readers
     * get the event once it committed. When {@code work} (or the transaction) fails, nothing is
     * published and the failure is rethrown. The seq rules of {@link #publish} apply; once this
     * returns, the event is durable.
     *
     * <p>The default runs the transaction and then {@link #publish}es the event.
     */
    default <T> T publishWith(RunEvent event, ChatStore store, Supplier<T> work) {
        Require.notNull(event, "event");
        Require.that(event.isTerminal(), "only a terminal event is published with a transaction");
        T result = store.inTransaction(work);
        publish(event);
        return result;
    }

    /**
     * Hands the run's log over to writers elsewhere, for a run that pauses (waits for approval of tool
     * calls): stores every event of the run published here, then forgets what this bus holds of it,
     * so that its later events (stored by whoever decides or cancels the waiting run, or published by
     * the server that resumes it) are read from the store, and a later publish here continues from
     * the store. Its caller publishes nothing more of the run until it resumes. Throws when the
     * events cannot be stored. Nothing by default, for a bus that keeps no state of a run.
     */
    default void handOff(RunId runId) {
    }

    /** The highest published seq of the run, or 0. */
    long lastSeq(RunId runId);

    /**
     * Pushes the run's events with {@code seq > afterSeq} to {@code sink}: those in its log (in memory or
     * stored), then the live ones, until its terminal event, with the guarantees {@link RunEventSink}
     * states; the events of a run published by another bus over the same store are delivered too. Returns
     * at once; the events come on delivery threads of the bus. Closing the bus ends its subscriptions
     * ({@link RunEventSink#onEnd} with null). A negative {@code afterSeq} is an IllegalArgumentException.
     */
    Subscription subscribe(RunId runId, long afterSeq, RunEventSink sink);

    /**
     * The pull form of {@link #subscribe(RunId, long, RunEventSink)} ({@link RunStream#of}): reads the
     * run's events with {@code seq > afterSeq}, then follows it live until its terminal event.
     */
    default RunSubscription subscribe(RunId runId, long afterSeq) {
        return RunSubscription.of(RunStream.of(sink -> subscribe(runId, afterSeq, sink)));
    }
}
