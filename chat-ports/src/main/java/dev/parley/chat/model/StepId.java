package dev.parley.chat.model;

import java.util.Optional;

/**
 * Identifier of a step: {@code step_} followed by an opaque, time-ordered body
 * (see {@link Ids}). Clients must not parse it.
 */
public record StepId(String value) implements Comparable<StepId> {
    public static final String PREFIX = "step";

    public StepId {
        Ids.requireValid(PREFIX, value, "step id");
    }

    /** A new id from {@code ids}. */
    public static StepId next(IdGenerator ids) {
        return new StepId(ids.next(PREFIX));
    }

    /** The id {@code text} names, or empty when it cannot be a step id (wrong prefix, bad characters, too long). */
    public static Optional<StepId> parse(String text) {
        return Ids.isValid(PREFIX, text) ? Optional.of(new StepId(text)) : Optional.empty();
    }

    @Override
    public int compareTo(StepId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
