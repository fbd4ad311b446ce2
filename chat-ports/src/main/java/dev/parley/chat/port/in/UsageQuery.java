package dev.parley.chat.port.in;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.UsageGroup;
import java.time.Instant;

/**
 * A usage report's question: runs that ended in {@code [from, to)} (whole hours, UTC; both null for
 * the current calendar month, UTC), grouped by {@code groupBy}, of the caller or, for an
 * administrator, of {@code userId} (null: the caller; with {@link UsageGroup#USER}: every user).
 */
public record UsageQuery(String userId, Instant from, Instant to, UsageGroup groupBy) {
    public UsageQuery {
        Require.notNull(groupBy, "groupBy");
    }

    /** The caller's current month, by day. */
    public static UsageQuery thisMonth() {
        return new UsageQuery(null, null, null, UsageGroup.DAY);
    }
}
