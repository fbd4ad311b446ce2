package dev.parley.chat.model;

import java.util.Optional;

/**
 * Identifier of a run: {@code run_} followed by an opaque, time-ordered body
 * (see {@link Ids}). Clients must not parse it.
 */
public record RunId(String value) implements Comparable<RunId> {
    public static final String PREFIX = "run";

    public RunId {
        Ids.requireValid(PREFIX, value, "run id");
    }

    /** A new id from {@code ids}. */
    public static RunId next(IdGenerator ids) {
        return new RunId(ids.next(PREFIX));
    }

    /** The id {@code text} names, or empty when it cannot be a run id (wrong prefix, bad characters, too long). */
    public static Optional<RunId> parse(String text) {
        return Ids.isValid(PREFIX, text) ? Optional.of(new RunId(text)) : Optional.empty();
    }

    @Override
    public int compareTo(RunId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
