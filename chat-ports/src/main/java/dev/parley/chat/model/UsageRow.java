package dev.parley.chat.model;

/**
 * One group of a usage report: its key ({@code 2026-12-01} for a day, an agent id, a model name or
 * {@code ""} for runs without one, a thread id, a user id) and its totals.
 */
public record UsageRow(String group, UsageTotals totals) {
    public UsageRow {
        Require.notNull(group, "group");
        Require.notNull(totals, "totals");
    }
}
