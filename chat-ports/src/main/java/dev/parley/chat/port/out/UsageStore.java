package dev.parley.chat.port.out;

import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import java.time.Instant;
import java.util.List;

/**
 * The usage ledger: the usage and cost of ended runs, counted by the store as each run ends (see
 * {@link RunStore#update}) in hourly aggregates per user, so that a report reads aggregates and never
 * every run (a store may move a run into its aggregates shortly after its end, reports counting it
 * meanwhile all the same). Runs count once, at the hour of their end; the ledger keeps them after
 * their thread is deleted. Thread-safe.
 */
public interface UsageStore {

    /**
     * The runs that ended in {@code [from, to)} (both whole hours, UTC), of {@code ownerId} (null for
     * every user), grouped by {@code groupBy}: {@code day} keys are {@code YYYY-MM-DD} (UTC), oldest
     * first; the other groups come in key order. Groups without runs are left out.
     */
    List<UsageRow> usage(String ownerId, Instant from, Instant to, UsageGroup groupBy);

    /** A ledger that keeps nothing: every report is empty. */
    static UsageStore none() {
        return (ownerId, from, to, groupBy) -> List.of();
    }
}
