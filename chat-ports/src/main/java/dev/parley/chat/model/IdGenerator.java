package dev.parley.chat.model;

/**
 * Source of ids. Implementations must be thread-safe and return ids that sort (as strings) in the
 * order they were made within one process, so that ids double as a tiebreaker in keyset pages.
 */
@FunctionalInterface
public interface IdGenerator {
    /** A new id {@code prefix + "_" + body}. */
    String next(String prefix);

    /** The default: UUIDv7 bodies (48-bit millisecond time, a 12-bit counter, 62 random bits) in lowercase hex. */
    static IdGenerator timeOrdered() {
        return Ids.UUID_V7;
    }
}
