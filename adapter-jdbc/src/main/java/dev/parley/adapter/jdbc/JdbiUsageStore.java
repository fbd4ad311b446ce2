package dev.parley.adapter.jdbc;

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
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The usage ledger. A run's end adds the run to its thread's totals ({@code parley_threads}) in the
 * transaction that ends it ({@link #ADD_TO_THREAD} in the answer's append, {@link #record} on H2,
 * {@link #pgEnding} on PostgreSQL) and leaves it pending ({@code parley_runs.ledger_pending}); {@link
 * UsageFolding} moves pending runs into the hourly aggregates of their owner ({@code
 * parley_usage_hourly} by agent and model, {@code parley_usage_thread_hourly} by thread) outside the
 * turn. Reports read the aggregates and add the runs still pending, so that each run counts once
 * whether folded or not.
 */
final class JdbiUsageStore implements UsageStore {
    private static final String SUMS = "sum(runs) AS runs, sum(input_tokens) AS input_tokens,"
            + " sum(cached_input_tokens) AS cached_input_tokens, sum(output_tokens) AS output_tokens,"
            + " sum(cost_usd) AS cost_usd, sum(unpriced_runs) AS unpriced_runs";

    /**
     * What a run adds to its thread's totals, as a part of an {@code UPDATE} of the thread's row (bound
     * by {@link #bindThreadTotals}): how the answer's append counts a completed run in the change of the
     * thread's row it makes anyway, and how {@link #pgEnding} counts the run it ends.
     */
    static final String ADD_TO_THREAD = "runs_count = runs_count + 1, input_tokens = input_tokens + :t_input,"
            + " cached_input_tokens = cached_input_tokens + :t_cached, output_tokens = output_tokens + :t_output,"
            + " cost_usd = cost_usd + :t_cost, unpriced_runs = unpriced_runs + :t_unpriced";

    private final Db db;
    private final String addToThread;
    private final Map<UsageGroup, String> byOwner = new EnumMap<>(UsageGroup.class);
    private final Map<UsageGroup, String> byEveryone = new EnumMap<>(UsageGroup.class);

    JdbiUsageStore(Db db) {
        this.db = db;
        String threads = db.table("parley_threads");
        addToThread = "UPDATE " + threads + " SET " + ADD_TO_THREAD + " WHERE id = :thread";
        for (UsageGroup group : UsageGroup.values()) {
            String key = switch (group) {
                // the UTC day, as text, so that a month is read as 30 groups rather than 720 hours
                case DAY -> db.dialect() == Dialect.POSTGRESQL ? "to_char(hour_start AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
                        : "FORMATDATETIME(hour_start, 'yyyy-MM-dd', 'en', 'UTC')";
                case AGENT -> "agent_id";
                case MODEL -> "model";
                case THREAD -> "thread_id";
                case USER -> "owner_id";
            };
            byOwner.put(group, report(group, key, true));
            byEveryone.put(group, report(group, key, false));
        }
    }

    /**
     * A report grouped by {@code key}: the hourly rows in the range, and the runs in it still pending
     * (each as a row of one run, at the hour of its end), each side filtered on its own so that each
     * reads its own index.
     */
    private String report(UsageGroup group, String key, boolean ofOwner) {
        boolean byThread = group == UsageGroup.THREAD;
        String keys = byThread ? "owner_id, hour_start, thread_id" : "owner_id, hour_start, agent_id, model";
        String rows = "SELECT " + keys + ", runs, input_tokens, cached_input_tokens, output_tokens, cost_usd, unpriced_runs FROM "
                + db.table(byThread ? "parley_usage_thread_hourly" : "parley_usage_hourly")
                + " WHERE " + (ofOwner ? "owner_id = :owner AND " : "") + "hour_start >= :from AND hour_start < :to";
        // a pending run's end stands for its hour: the groups read the hour only for its UTC day
        String runKeys = byThread ? "t.owner_id, r.completed_at, r.thread_id" : "t.owner_id, r.completed_at, r.agent_id, coalesce(r.model, '')";
        String pending = "SELECT " + runKeys + ", 1, r.input_tokens, r.cached_input_tokens, r.output_tokens, "
                + RUN_COST + ", " + RUN_UNPRICED + " FROM " + db.table("parley_runs") + " r JOIN " + db.table("parley_threads")
                + " t ON t.id = r.thread_id WHERE " + PENDING + " AND r.completed_at >= :from AND r.completed_at < :to"
                + (ofOwner ? " AND t.owner_id = :owner" : "");
        return "SELECT " + key + " AS grp, " + SUMS + " FROM (" + rows + " UNION ALL " + pending + ") u GROUP BY " + key
                + " ORDER BY " + key;
    }

    /** A run still pending for the ledger's rows, through the index its end changed. */
    static final String PENDING = "r.events_expired_at IS NULL AND r.ledger_pending = TRUE";
    /** A run's cost as the ledger adds it (none: zero, counted unpriced). */
    static final String RUN_COST = "coalesce(CAST(r.cost_usd AS numeric(38, 12)), 0)";
    static final String RUN_UNPRICED = "CASE WHEN r.cost_usd IS NULL THEN 1 ELSE 0 END";

    /**
     * PostgreSQL: {@code runUpdate} (an {@code UPDATE} of one run that ends it) and the run's usage added
     * to its thread's totals in one statement, so that keeping usage costs the run's end no round trip:
     * the run's update returns its thread, whose update follows (a data-modifying CTE; nothing when the
     * run's update matched no row). Its update count is the number of runs it ended. Bind the run as for
     * {@code runUpdate}, then {@link #bindThreadTotals}.
     */
    String pgEnding(String runUpdate) {
        return "WITH r AS (" + runUpdate + " RETURNING thread_id) UPDATE " + db.table("parley_threads")
                + " SET " + ADD_TO_THREAD + " WHERE id = (SELECT thread_id FROM r)";
    }

    /** Binds what {@link #ADD_TO_THREAD} adds of {@code run}. */
    static <S extends SqlStatement<S>> S bindThreadTotals(S statement, Run run) {
        return statement.bind("t_input", Args.int64(run.usage().inputTokens()))
                .bind("t_cached", Args.int64(run.usage().cachedInputTokens()))
                .bind("t_output", Args.int64(run.usage().outputTokens()))
                .bind("t_cost", Args.decimal(run.costUsd() == null ? BigDecimal.ZERO : run.costUsd()))
                .bind("t_unpriced", Args.int32(run.costUsd() == null ? 1 : 0));
    }

    /**
     * H2: adds a run that just ended to its thread's totals, on the handle (and in the transaction) of the
     * change that ended it. (PostgreSQL ends a run and counts it in one statement, {@link #pgEnding}.)
     */
    void record(Handle h, Run run) {
        Require.that(db.dialect() == Dialect.H2, "PostgreSQL counts a run in the statement that ends it");
        bindThreadTotals(h.createUpdate(addToThread), run).bind("thread", run.threadId().value()).execute();
    }

    @Override
    public List<UsageRow> usage(String ownerId, Instant from, Instant to, UsageGroup groupBy) {
        Require.notNull(from, "from");
        Require.notNull(to, "to");
        Require.notNull(groupBy, "groupBy");
        return db.call(h -> {
            Query q = h.createQuery(ownerId == null ? byEveryone.get(groupBy) : byOwner.get(groupBy))
                    .bind("from", from).bind("to", to);
            if (ownerId != null) {
                q.bind("owner", Text.put(ownerId));
            }
            return q.map((rs, ctx) -> new UsageRow(key(rs, groupBy), totals(rs))).list();
        });
    }

    private static String key(ResultSet rs, UsageGroup groupBy) throws SQLException {
        return groupBy == UsageGroup.DAY ? rs.getString("grp") : Text.get(rs.getString("grp"));
    }

    static UsageTotals totals(ResultSet rs) throws SQLException {
        return new UsageTotals(rs.getLong("runs"), rs.getLong("input_tokens"), rs.getLong("cached_input_tokens"),
                rs.getLong("output_tokens"), rs.getBigDecimal("cost_usd"), rs.getLong("unpriced_runs"));
    }
}
