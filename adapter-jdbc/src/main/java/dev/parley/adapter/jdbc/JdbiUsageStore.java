package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.port.out.UsageStore;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The usage ledger: {@link #record} adds an ended run to its thread's totals ({@code parley_threads})
 * and to the hourly aggregates of its owner ({@code parley_usage_hourly} by agent and model,
 * {@code parley_usage_thread_hourly} by thread), on the handle of the change that ended it; reports
 * read the aggregates only.
 */
final class JdbiUsageStore implements UsageStore {
    private static final String SUMS = "sum(runs) AS runs, sum(input_tokens) AS input_tokens,"
            + " sum(cached_input_tokens) AS cached_input_tokens, sum(output_tokens) AS output_tokens,"
            + " sum(cost_usd) AS cost_usd, sum(unpriced_runs) AS unpriced_runs";

    private final Db db;
    private final String addToThread;
    private static final int MERGE_ATTEMPTS = 3;
    private final String addToHourly;
    private final String addToThreadHourly;
    private final Map<UsageGroup, String> byOwner = new java.util.EnumMap<>(UsageGroup.class);
    private final Map<UsageGroup, String> byEveryone = new java.util.EnumMap<>(UsageGroup.class);

    JdbiUsageStore(Db db) {
        this.db = db;
        String threads = db.table("parley_threads");
        String hourly = db.table("parley_usage_hourly");
        String threadHourly = db.table("parley_usage_thread_hourly");
        addToThread = "UPDATE " + threads + " SET runs_count = runs_count + 1, input_tokens = input_tokens + :input_tokens,"
                + " cached_input_tokens = cached_input_tokens + :cached_input_tokens, output_tokens = output_tokens + :output_tokens, cost_usd = cost_usd + :cost, unpriced_runs = unpriced_runs + :unpriced"
                + " WHERE id = :thread";
        String values = "SELECT t.owner_id, CAST(:hour AS TIMESTAMP WITH TIME ZONE) AS hour_start, %s 1 AS runs,"
                + " CAST(:input_tokens AS BIGINT) AS input_tokens, CAST(:cached_input_tokens AS BIGINT) AS cached_input_tokens,"
                + " CAST(:output_tokens AS BIGINT) AS output_tokens,"
                + " CAST(:cost AS NUMERIC(38, 12)) AS cost_usd, CAST(:unpriced AS BIGINT) AS unpriced_runs FROM " + threads + " t WHERE t.id = :thread";
        String add = " runs = u.runs + s.runs, input_tokens = u.input_tokens + s.input_tokens,"
                + " cached_input_tokens = u.cached_input_tokens + s.cached_input_tokens, output_tokens = u.output_tokens + s.output_tokens, cost_usd = u.cost_usd + s.cost_usd,"
                + " unpriced_runs = u.unpriced_runs + s.unpriced_runs";
        addToHourly = upsert(db.dialect(), hourly, List.of("agent_id", "model"),
                String.format(values, "CAST(:agent AS VARCHAR(64)) AS agent_id, CAST(:model AS VARCHAR) AS model,"), add);
        addToThreadHourly = upsert(db.dialect(), threadHourly, List.of("thread_id"),
                String.format(values, "CAST(:thread AS VARCHAR(80)) AS thread_id,"), add);
        for (UsageGroup group : UsageGroup.values()) {
            String table = group == UsageGroup.THREAD ? threadHourly : hourly;
            String key = switch (group) {
                // the UTC day, as text, so that a month is read as 30 groups rather than 720 hours
                case DAY -> db.dialect() == Dialect.POSTGRESQL ? "to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
                        : "FORMATDATETIME(hour_start, 'yyyy-MM-dd', 'en', 'UTC')";
                case AGENT -> "agent_id";
                case MODEL -> "model";
                case THREAD -> "thread_id";
                case USER -> "owner_id";
            };
            String select = "SELECT " + key + " AS grp, " + SUMS + " FROM " + table;
            String range = "hour_start >= :from AND hour_start < :to";
            byOwner.put(group, select + " WHERE owner_id = :owner AND " + range + " GROUP BY " + key + " ORDER BY " + key);
            byEveryone.put(group, select + " WHERE " + range + " GROUP BY " + key + " ORDER BY " + key);
        }
    }

    /** An insert-or-add of {@code source}'s one row into {@code table}, keyed by owner, hour and {@code keys}. */
    private static String upsert(Dialect dialect, String table, List<String> keys, String source, String add) {
        List<String> columns = new ArrayList<>(List.of("owner_id", "hour_start"));
        columns.addAll(keys);
        columns.addAll(List.of("runs", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd", "unpriced_runs"));
        String names = String.join(", ", columns);
        if (dialect == Dialect.POSTGRESQL) {
            String conflict = "owner_id, hour_start, " + String.join(", ", keys);
            return "INSERT INTO " + table + " AS u (" + names + ") " + source + " ON CONFLICT (" + conflict + ") DO UPDATE SET"
                    + add.replace("s.", "EXCLUDED.");
        }
        StringBuilder on = new StringBuilder("u.owner_id = s.owner_id AND u.hour_start = s.hour_start");
        keys.forEach(k -> on.append(" AND u.").append(k).append(" = s.").append(k));
        return "MERGE INTO " + table + " u USING (" + source + ") s ON (" + on + ") WHEN MATCHED THEN UPDATE SET" + add
                + " WHEN NOT MATCHED THEN INSERT (" + names + ") VALUES (s." + String.join(", s.", columns) + ")";
    }

    /**
     * PostgreSQL: {@code runUpdate} (an {@code UPDATE} of one run that ends it) and the ledger's three
     * changes in one statement, so that keeping usage costs the run's end no round trip: the run's
     * update returns its thread, which the thread totals' update and the two ledger upserts follow
     * (data-modifying CTEs, each executed once; nothing when the run's update matched no row). The
     * statement answers how many runs it updated. Bind the run as for {@code runUpdate}, then
     * {@link #bindLedger}.
     */
    String pgEnding(String runUpdate) {
        String threads = db.table("parley_threads");
        String values = " SELECT owner_id, :hour, %s 1, :input_tokens, :cached_input_tokens, :output_tokens, :ledger_cost,"
                + " :unpriced FROM t";
        String add = " runs = u.runs + EXCLUDED.runs, input_tokens = u.input_tokens + EXCLUDED.input_tokens,"
                + " cached_input_tokens = u.cached_input_tokens + EXCLUDED.cached_input_tokens, output_tokens = u.output_tokens + EXCLUDED.output_tokens, cost_usd = u.cost_usd + EXCLUDED.cost_usd,"
                + " unpriced_runs = u.unpriced_runs + EXCLUDED.unpriced_runs";
        String columns = " runs, input_tokens, cached_input_tokens, output_tokens, cost_usd, unpriced_runs)";
        return "WITH r AS (" + runUpdate + " RETURNING thread_id),"
                + " t AS (UPDATE " + threads + " SET runs_count = runs_count + 1, input_tokens = input_tokens + :input_tokens,"
                + " cached_input_tokens = cached_input_tokens + :cached_input_tokens, output_tokens = output_tokens + :output_tokens, cost_usd = cost_usd + :ledger_cost,"
                + " unpriced_runs = unpriced_runs + :unpriced WHERE id = (SELECT thread_id FROM r) RETURNING owner_id),"
                + " h AS (INSERT INTO " + db.table("parley_usage_hourly") + " AS u (owner_id, hour_start, agent_id, model," + columns
                + String.format(values, ":agent, :ledger_model,")
                + " ON CONFLICT (owner_id, hour_start, agent_id, model) DO UPDATE SET" + add + "),"
                + " th AS (INSERT INTO " + db.table("parley_usage_thread_hourly") + " AS u (owner_id, hour_start, thread_id," + columns
                + String.format(values, ":thread,")
                + " ON CONFLICT (owner_id, hour_start, thread_id) DO UPDATE SET" + add + ")"
                + " SELECT count(*) FROM r";
    }

    /** The values {@link #pgEnding}'s ledger part needs beyond the run's own. */
    <S extends SqlStatement<S>> S bindLedger(S statement, Run run) {
        return statement.bind("hour", run.completedAt().truncatedTo(ChronoUnit.HOURS))
                .bind("ledger_cost", run.costUsd() == null ? BigDecimal.ZERO : run.costUsd())
                .bind("unpriced", run.costUsd() == null ? 1 : 0)
                .bind("ledger_model", run.model() == null ? "" : Text.put(run.model()));
    }

    /** Counts a run that just ended, on the handle (and in the transaction) of the change that ended it. */
    void record(Handle h, Run run) {
        BigDecimal cost = run.costUsd() == null ? BigDecimal.ZERO : run.costUsd();
        int unpriced = run.costUsd() == null ? 1 : 0;
        Instant hour = run.completedAt().truncatedTo(ChronoUnit.HOURS);
        h.createUpdate(addToThread).bind("thread", run.threadId().value())
                .bind("input_tokens", run.usage().inputTokens()).bind("cached_input_tokens", run.usage().cachedInputTokens())
                .bind("output_tokens", run.usage().outputTokens()).bind("cost", cost).bind("unpriced", unpriced).execute();
        for (String sql : List.of(addToHourly, addToThreadHourly)) {
            for (int attempt = 1; ; attempt++) {
                try {
                    h.createUpdate(sql).bind("thread", run.threadId().value()).bind("hour", hour)
                            .bind("agent", run.agentId()).bind("model", run.model() == null ? "" : Text.put(run.model()))
                            .bind("input_tokens", run.usage().inputTokens())
                            .bind("cached_input_tokens", run.usage().cachedInputTokens())
                            .bind("output_tokens", run.usage().outputTokens())
                            .bind("cost", cost).bind("unpriced", unpriced).execute();
                    break;
                } catch (RuntimeException e) {
                    // H2's MERGE is not atomic: two runs ending at once may both find no row of their hour and both
                    // insert it; the second insert fails once the first commits (a failed statement leaves an H2
                    // transaction usable), and its retry then finds the row and adds to it. PostgreSQL's
                    // INSERT ... ON CONFLICT has no such race.
                    if (db.dialect() == Dialect.POSTGRESQL || attempt == MERGE_ATTEMPTS || !isDuplicate(e)) {
                        throw e;
                    }
                }
            }
        }
    }

    private static boolean isDuplicate(RuntimeException e) {
        return SqlErrors.translate(e) instanceof ConflictException c && c.reason() == ConflictException.Reason.DUPLICATE;
    }

    @Override
    public List<UsageRow> usage(String ownerId, Instant from, Instant to, UsageGroup groupBy) {
        Require.notNull(from, "from");
        Require.notNull(to, "to");
        Require.notNull(groupBy, "groupBy");
        List<UsageRow> rows = db.call(h -> {
            Query q = h.createQuery(ownerId == null ? byEveryone.get(groupBy) : byOwner.get(groupBy))
                    .bind("from", from).bind("to", to);
            if (ownerId != null) {
                q.bind("owner", Text.put(ownerId));
            }
            return q.map((rs, ctx) -> new UsageRow(key(rs, groupBy), totals(rs))).list();
        });
        return rows;
    }

    private static String key(ResultSet rs, UsageGroup groupBy) throws SQLException {
        return groupBy == UsageGroup.DAY ? rs.getString("grp") : Text.get(rs.getString("grp"));
    }

    static UsageTotals totals(ResultSet rs) throws SQLException {
        return new UsageTotals(rs.getLong("runs"), rs.getLong("input_tokens"), rs.getLong("cached_input_tokens"),
                rs.getLong("output_tokens"), rs.getBigDecimal("cost_usd"), rs.getLong("unpriced_runs"));
    }
}
