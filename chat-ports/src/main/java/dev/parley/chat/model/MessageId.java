package dev.parley.chat.model;

import java.util.Optional;

/**
 * Identifier of a message: {@code msg_} followed by an opaque, time-ordered body
 * (see {@link Ids}). Clients must not parse it.
 */
public record MessageId(String value) implements Comparable<MessageId> {
    public static final String PREFIX = "msg";

    public MessageId {
        Ids.requireValid(PREFIX, value, "message id");
    }

    /** A new id from {@code ids}. */
    public static MessageId next(IdGenerator ids) {
        return new MessageId(ids.next(PREFIX));
    }

    /** The id {@code text} names, or empty when it cannot be a message id (wrong prefix, bad characters, too long). */
    public static Optional<MessageId> parse(String text) {
        return Ids.isValid(PREFIX, text) ? Optional.of(new MessageId(text)) : Optional.empty();
    }

    @Override
    public int compareTo(MessageId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
