package dev.parley.chat.port.in;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import java.time.Instant;
import java.util.List;

/** A usage report: its range, its grouping, a row per group, and the total over all rows. */
public record UsageReport(Instant from, Instant to, UsageGroup groupBy, List<UsageRow> rows, UsageTotals total) {
    public UsageReport {
        Require.notNull(from, "from");
        Require.notNull(to, "to");
        Require.notNull(groupBy, "groupBy");
        rows = List.copyOf(rows);
        Require.notNull(total, "total");
    }
}
