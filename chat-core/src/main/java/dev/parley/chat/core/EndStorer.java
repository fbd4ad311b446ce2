package dev.parley.chat.core;

import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores the end of a run that ended while the store could not be reached, once it answers again:
 * after the run's buffered events, retried with backoff; until then the run waits to end.
 */
final class EndStorer implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(EndStorer.class);
    /** Backoff of the attempts to store a run's end while the store cannot be reached. */
    static final long RETRY_FIRST_MILLIS = 50;
    static final long RETRY_MAX_MILLIS = 2_000;
    /** How long the end waits for the run's buffered events to be stored once the store answers again. */
    static final Duration LOG_WAIT = Duration.ofSeconds(5);

    private final Engine engine;
    private final RunState state;
    private final Supplier<Run> write;
    private final Supplier<Run> fallback;
    private final long terminalSeq;
    private final RunId runId;
    private long delayMillis = RETRY_FIRST_MILLIS;
    private int attempts;
    /** Writes that failed in a row while the store answered pings. */
    private int refusals;
    /** When the store first answered again ({@link System#nanoTime()}), or 0. */
    private long answeredSince;

    /**
     * {@code write} stores the end with the partial text; a store that answers but refuses it gets
     * {@code fallback} (the status alone). Both return the run as stored, or null when another party
     * ended it first. The run's terminal event, published already, has {@code terminalSeq}.
     */
    EndStorer(Engine engine, RunState state, Supplier<Run> write, Supplier<Run> fallback, long terminalSeq) {
        this.engine = engine;
        this.state = state;
        this.runId = state.run.id();
        this.write = write;
        this.fallback = fallback;
        this.terminalSeq = terminalSeq;
    }

    /** Runs the next attempt after {@code millis}, off the timer's thread (an attempt may wait for the store). */
    void schedule(long millis) {
        try {
            engine.timers().schedule(() -> {
                try {
                    engine.toolExecutor().execute(this);
                } catch (RejectedExecutionException e) {
                    giveUp();
                }
            }, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            giveUp();
        }
    }

    @Override
    public void run() {
        attempts++;
        Run stored;
        try {
            if (engine.store().events().lastSeq(runId) < terminalSeq) {
                // the store answers: the run's buffered events go first, so that its log ends before its status
                // does (the event bus writes them on its own within moments); a log that stays short is not
                // waited for longer than LOG_WAIT
                long now = System.nanoTime();
                if (answeredSince == 0) {
                    answeredSince = now;
                }
                if (now - answeredSince < LOG_WAIT.toNanos()) {
                    schedule(RETRY_FIRST_MILLIS);
                    return;
                }
                log.warn("run {}: its events up to seq {} are not stored; storing its end anyway", runId, terminalSeq);
            }
            stored = write.get();
        } catch (RuntimeException e) {
            if (storeUnreachable(engine, e)) {
                answeredSince = 0;
                refusals = 0;
                long next = delayMillis;
                delayMillis = Math.min(RETRY_MAX_MILLIS, delayMillis * 2);
                schedule(next);
                return;
            }
            if (e instanceof StorageUnavailableException && ++refusals < 2) {
                // the store may have come back between the write and the ping: once more before giving up the partial text
                schedule(RETRY_FIRST_MILLIS);
                return;
            }
            log.error("run {}: could not store its end with its partial answer", runId, e);
            try {
                stored = fallback.get();
            } catch (RuntimeException again) {
                log.error("run {}: could not store its end", runId, again);
                giveUp();
                return;
            }
        }
        if (stored != null) {
            log.info("run {}: its end ({}) is stored, after {} attempts", runId, stored.status().wireName(), attempts);
        }
        done(stored);
    }

    /** The end cannot be stored (the service closed, or the store refuses it): the run is left to a reaper. */
    private void giveUp() {
        log.warn("run {}: its end was not stored; the reaper will end it once its lease expires", runId);
        done(null);
    }

    private void done(Run stored) {
        state.lock.lock();
        try {
            if (stored != null) {
                state.run = stored;
                state.leftoversStored();
                engine.charged(stored);
            } else {
                try {
                    engine.store().runs().find(runId).filter(Run::isTerminal).ifPresent(r -> state.run = r);
                } catch (RuntimeException e) {
                    log.debug("run {}: could not read its status", runId, e);
                }
            }
        } finally {
            state.lock.unlock();
        }
        state.endToStore = false;
        state.end();
    }

    /**
     * True when {@code failure} means the store cannot be reached (it does not answer a ping either),
     * as opposed to a store that answers but refuses this write.
     */
    static boolean storeUnreachable(Engine engine, RuntimeException failure) {
        if (!(failure instanceof StorageUnavailableException)) {
            return false;
        }
        try {
            engine.store().ping();
            return false;
        } catch (RuntimeException e) {
            return true;
        }
    }
}
