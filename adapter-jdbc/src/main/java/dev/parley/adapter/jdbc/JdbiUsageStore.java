package dev.parley.adapter.jdbc;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.port.out.UsageStore;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The usage ledger: {@link #record} (H2) and {@link #pgEnding} (PostgreSQL) add an ended run to its thread's totals ({@code parley_threads})
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
    /** What each run adds to a ledger row besides one run, in the order the statements take them. */
    private static final List<String> AMOUNTS = List.of("input_tokens", "cached_input_tokens", "output_tokens", "cost_usd", "unpriced_runs");
    private final Tally addToHourly;
    private final Tally addToThreadHourly;
    private final Map<UsageGroup, String> byOwner = new java.util.EnumMap<>(UsageGroup.class);
    private final Map<UsageGroup, String> byEveryone = new java.util.EnumMap<>(UsageGroup.class);

    JdbiUsageStore(Db db) {
        this.db = db;
        String threads = db.table("parley_threads");
        String hourly = db.table("parley_usage_hourly");
        String threadHourly = db.table("parley_usage_thread_hourly");
        // H2 (see record): the thread's totals, answering its owner, whom the two ledger rows then take as a
        // value (no read of the thread)
        addToThread = "SELECT owner_id FROM FINAL TABLE (UPDATE " + threads + " SET runs_count = runs_count + 1,"
                + " input_tokens = input_tokens + ?, cached_input_tokens = cached_input_tokens + ?, output_tokens = output_tokens + ?,"
                + " cost_usd = cost_usd + ?, unpriced_runs = unpriced_runs + ? WHERE id = ?)";
        addToHourly = tally(hourly, List.of("agent_id", "model"));
        addToThreadHourly = tally(threadHourly, List.of("thread_id"));
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

    /**
     * How {@link #record} adds a run to one ledger row of {@code table}, keyed by owner, hour and {@code keys}:
     * an {@code UPDATE} of the row ({@code add}: the run's amounts ({@link #AMOUNTS}), then the key), and an
     * {@code INSERT} (the key, then the amounts) only when the hour has no row yet.
     */
    private record Tally(String add, String insert) {}

    private static Tally tally(String table, List<String> keys) {
        List<String> key = new ArrayList<>(List.of("owner_id", "hour_start"));
        key.addAll(keys);
        String insert = "INSERT INTO " + table + " (" + String.join(", ", key) + ", runs, " + String.join(", ", AMOUNTS)
                + ") VALUES (" + "?, ".repeat(key.size()) + "1" + ", ?".repeat(AMOUNTS.size()) + ")";
        StringBuilder add = new StringBuilder(" runs = u.runs + 1");
        AMOUNTS.forEach(a -> add.append(", ").append(a).append(" = u.").append(a).append(" + ?"));
        String where = String.join(" AND ", key.stream().map(k -> "u." + k + " = ?").toList());
        return new Tally("UPDATE " + table + " u SET" + add + " WHERE " + where, insert);
    }

    /**
     * PostgreSQL: {@code runUpdate} (an {@code UPDATE} of one run that ends it) and the ledger's three
     * changes in one statement, so that keeping usage costs the run's end no round trip: the run's
     * update returns its thread, which the thread totals' update and the two ledger upserts follow
     * (data-modifying CTEs, each executed once; nothing when the run's update matched no row). The
     * statement's own change is the last upsert, so its update count is the number of runs it ended
     * (an update count rather than a row to read: measured cheaper per turn). Bind the run as for
     * {@code runUpdate}, then {@link #bindLedger}.
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
                + " ON CONFLICT (owner_id, hour_start, agent_id, model) DO UPDATE SET" + add + ")"
                + " INSERT INTO " + db.table("parley_usage_thread_hourly") + " AS u (owner_id, hour_start, thread_id," + columns
                + String.format(values, ":thread,")
                + " ON CONFLICT (owner_id, hour_start, thread_id) DO UPDATE SET" + add;
    }

    /** The values {@link #pgEnding}'s ledger part needs beyond the run's own. */
    <S extends SqlStatement<S>> S bindLedger(S statement, Run run) {
        return statement.bind("hour", run.completedAt().truncatedTo(ChronoUnit.HOURS))
                .bind("ledger_cost", run.costUsd() == null ? BigDecimal.ZERO : run.costUsd())
                .bind("unpriced", run.costUsd() == null ? 1 : 0)
                .bind("ledger_model", run.model() == null ? "" : Text.put(run.model()));
    }

    /**
     * H2: counts a run that just ended, on the handle (and in the transaction) of the change that ended it: its
     * thread's totals, then its two ledger rows. Plain JDBC statements, as this runs in every run's end.
     * (PostgreSQL ends a run and counts it in one statement, {@link #pgEnding}.)
     */
    void record(Handle h, Run run) {
        Require.that(db.dialect() == Dialect.H2, "PostgreSQL counts a run in the statement that ends it");
        BigDecimal cost = run.costUsd() == null ? BigDecimal.ZERO : run.costUsd();
        List<Object> amounts = List.of(run.usage().inputTokens(), run.usage().cachedInputTokens(), run.usage().outputTokens(),
                cost, run.costUsd() == null ? 1 : 0);
        Connection c = h.getConnection();
        try {
            List<Object> thread = new ArrayList<>(amounts);
            thread.add(run.threadId().value());
            String owner;
            try (PreparedStatement s = prepare(c, addToThread, thread); ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return; // the thread is gone with its runs: nobody's usage to count
                }
                owner = rs.getString(1);
            }
            Timestamp hour = Timestamp.from(run.completedAt().truncatedTo(ChronoUnit.HOURS));
            String model = run.model() == null ? "" : Text.put(run.model());
            add(c, addToHourly, List.of(owner, hour, run.agentId(), model), amounts);
            add(c, addToThreadHourly, List.of(owner, hour, run.threadId().value()), amounts);
        } catch (SQLException e) {
            throw SqlErrors.translate(e);
        }
    }

    private static void add(Connection c, Tally tally, List<Object> key, List<Object> amounts) throws SQLException {
        List<Object> keyFirst = new ArrayList<>(key);
        keyFirst.addAll(amounts);
        List<Object> amountsFirst = new ArrayList<>(amounts);
        amountsFirst.addAll(key);
        if (execute(c, tally.add(), amountsFirst) == 1) {
            return;
        }
        try {
            execute(c, tally.insert(), keyFirst);
        } catch (SQLException e) {
            // another run of the same hour inserted the row first (a failed statement leaves an H2 transaction
            // usable): add to the row it made
            if (!"23505".equals(e.getSQLState()) || execute(c, tally.add(), amountsFirst) != 1) {
                throw e;
            }
        }
    }

    private static int execute(Connection c, String sql, List<Object> values) throws SQLException {
        try (PreparedStatement s = prepare(c, sql, values)) {
            return s.executeUpdate();
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, List<Object> values) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        try {
            for (int i = 0; i < values.size(); i++) {
                s.setObject(i + 1, values.get(i));
            }
            return s;
        } catch (SQLException e) {
            s.close();
            throw e;
        }
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
