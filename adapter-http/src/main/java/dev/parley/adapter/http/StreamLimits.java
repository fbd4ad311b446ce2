package dev.parley.adapter.http;

import dev.parley.chat.model.LimitExceededException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The event streams each user holds open on this server, at most {@link #max()} at once: every SSE
 * stream of a run (a streaming chat, edit or regenerate, and {@code /events}) and every authenticated
 * WebSocket takes a {@link Slot} for as long as it is open. Past the limit {@link #acquire} throws a
 * {@link LimitExceededException} {@code too_many_streams} (the HTTP API answers 429 with
 * {@code Retry-After}); a closed slot is free again at once.
 *
 * <p>Counted per server, in memory: a user reaching several servers through a load balancer may hold
 * the limit on each. A driving adapter beside the HTTP API (such as an OpenAI-compatible facade) takes
 * its slots from the same instance ({@link ParleyHttp.Config#streamLimits()}), so one limit covers every
 * transport. Thread-safe.
 */
public final class StreamLimits {
    /** What a refused client is told to wait before it tries again. */
    public static final Duration RETRY_AFTER = Duration.ofSeconds(2);
    /** The default of {@link ParleyHttp.Config.Builder#maxStreamsPerUser}. */
    public static final int DEFAULT_MAX_PER_USER = 32;

    private final int max;
    private final ConcurrentMap<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();

    private StreamLimits(int max) {
        this.max = max;
    }

    /** At most {@code max} open streams per user ({@code 0}: no limit, but still counted). */
    public static StreamLimits perUser(int max) {
        if (max < 0) {
            throw new IllegalArgumentException("max must not be negative");
        }
        return new StreamLimits(max);
    }

    /** The most streams a user may hold open at once, 0 for no limit. */
    public int max() {
        return max;
    }

    /**
     * Takes one of the user's slots; close it when the stream ends (closing twice is harmless).
     *
     * @throws LimitExceededException {@code too_many_streams} when the user holds {@link #max()} already
     */
    public Slot acquire(String userId) {
        Objects.requireNonNull(userId, "userId");
        boolean[] taken = {false};
        open.compute(userId, (user, count) -> {
            AtomicInteger c = count == null ? new AtomicInteger() : count;
            if (max == 0 || c.get() < max) {
                c.incrementAndGet();
                taken[0] = true;
            }
            return c.get() == 0 ? null : c;
        });
        if (!taken[0]) {
            refused.incrementAndGet();
            throw LimitExceededException.streams(max, RETRY_AFTER);
        }
        return new Slot(userId);
    }

    /** How many streams the user holds open on this server now. */
    public int openBy(String userId) {
        AtomicInteger count = open.get(userId);
        return count == null ? 0 : count.get();
    }

    /** How many streams were refused since this instance was made. */
    public long refused() {
        return refused.get();
    }

    private void release(String userId) {
        open.computeIfPresent(userId, (user, count) -> count.decrementAndGet() <= 0 ? null : count);
    }

    /** One open stream of a user; {@link #close()} frees it. */
    public final class Slot implements AutoCloseable {
        private final String userId;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Slot(String userId) {
            this.userId = userId;
        }

        /** Frees the slot; only the first call counts. */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(userId);
            }
        }
    }
}
