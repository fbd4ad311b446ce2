package dev.parley.chat.model;

import java.util.Optional;

/**
 * Identifier of a thread: {@code thr_} followed by an opaque, time-ordered body
 * (see {@link Ids}). Clients must not parse it.
 */
public record ThreadId(String value) implements Comparable<ThreadId> {
    public static final String PREFIX = "thr";

    public ThreadId {
        Ids.requireValid(PREFIX, value, "thread id");
    }

    /** A new id from {@code ids}. */
    public static ThreadId next(IdGenerator ids) {
        return new ThreadId(ids.next(PREFIX));
    }

    /** The id {@code text} names, or empty when it cannot be a thread id (wrong prefix, bad characters, too long). */
    public static Optional<ThreadId> parse(String text) {
        return Ids.isValid(PREFIX, text) ? Optional.of(new ThreadId(text)) : Optional.empty();
    }

    @Override
    public int compareTo(ThreadId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
