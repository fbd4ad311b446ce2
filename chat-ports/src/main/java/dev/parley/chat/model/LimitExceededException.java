package dev.parley.chat.model;

import java.time.Duration;

/**
 * A user holds as much as a limit allows at once: {@link #TOO_MANY_ACTIVE_RUNS} (runs queued, in
 * progress or waiting for approval, counted in the store for all servers sharing it) or
 * {@link #TOO_MANY_STREAMS} (event streams open on one server). Nothing was stored; the same request
 * succeeds once the user holds less, so a client retries after {@link #retryAfter()}.
 */
public final class LimitExceededException extends ChatException {
    private static final long serialVersionUID = 1L;
    /** The code of a send refused because the user's active runs reached their limit. */
    public static final String TOO_MANY_ACTIVE_RUNS = "too_many_active_runs";
    /** The code of a stream refused because the user's open streams on the server reached their limit. */
    public static final String TOO_MANY_STREAMS = "too_many_streams";

    private final transient Duration retryAfter;
    private final int limit;

    public LimitExceededException(String code, String message, int limit, Duration retryAfter) {
        super(code, message);
        this.retryAfter = Require.notNull(retryAfter, "retryAfter");
        this.limit = limit;
    }

    /** A send refused because the user already has {@code limit} active runs. */
    public static LimitExceededException activeRuns(int limit, Duration retryAfter) {
        return new LimitExceededException(TOO_MANY_ACTIVE_RUNS, "You already have " + limit
                + " active runs (queued, in progress or waiting for approval), the most allowed at once;"
                + " wait for one to end, or cancel one", limit, retryAfter);
    }

    /** A stream refused because the user already has {@code limit} streams open on this server. */
    public static LimitExceededException streams(int limit, Duration retryAfter) {
        return new LimitExceededException(TOO_MANY_STREAMS, "You already have " + limit
                + " event streams open, the most allowed at once; close one first", limit, retryAfter);
    }

    /** How long a client should wait before it tries again (a hint: the limit frees as soon as the user holds less). */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** The limit that was reached. */
    public int limit() {
        return limit;
    }
}
