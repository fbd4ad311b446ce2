package dev.parley.adapter.jdbc;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the runs pending for the usage ledger ({@code parley_runs.ledger_pending}, set by a run's end)
 * into the ledger's hourly rows, outside the turns that ended them: every second, in transactions of
 * at most {@value #BATCH} runs, each clearing its runs' flag and adding them to their rows together.
 * A run is added by the transaction whose clearing of its flag changed it, so servers folding at the
 * same time never count a run twice; reports count pending runs from the runs themselves until then.
 * On PostgreSQL a fold takes its batch with one statement that skips the runs another transaction holds.
 */
final class UsageFolding implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageFolding.class);
    static final int BATCH = 500;
    private static final long EVERY_MILLIS = 1_000;

    private final Db db;
    /** H2: reads a batch of pending runs; null on PostgreSQL. */
    private final String pending;
    /** PostgreSQL: takes a batch of pending runs (see the constructor); null on H2. */
    private final String take;
    private final String pendingOfThread;
    private final String pendingRun;
    private final String clear;
    private final String addToHourly;
    private final String addToThreadHourly;
    private final String insertHourly;
    private final String insertThreadHourly;
    private static final long CLOSE_WAIT_SECONDS = 5;
    private final ScheduledThreadPoolExecutor timer;
    /** Attempts failed in a row (logged at WARN only the first of them). */
    private final AtomicInteger failures = new AtomicInteger();

    UsageFolding(Db db) {
        this.db = db;
        String runs = db.table("parley_runs");
        // what a fold reads of a run (see Pending.of), its thread joined as t
        String read = "r.id, r.thread_id, r.agent_id, coalesce(r.model, '') AS model, r.completed_at, r.input_tokens,"
                + " r.cached_input_tokens, r.output_tokens, r.cost_usd, t.owner_id";
        String select = "SELECT " + read + " FROM " + runs + " r JOIN " + db.table("parley_threads") + " t ON t.id = r.thread_id"
                + " WHERE " + JdbiUsageStore.PENDING;
        boolean postgres = db.dialect() == Dialect.POSTGRESQL;
        // H2: a batch read, then cleared run by run (see fold)
        pending = postgres ? null : select + " ORDER BY r.events_expired_at, r.ledger_pending, r.completed_at LIMIT :max";
        // PostgreSQL: the batch's runs locked (skipping those another fold or a deletion holds), their flag cleared and
        // what they add read back, in one statement, instead of a read and then one clearing statement per run
        take = !postgres ? null
                : "UPDATE " + runs + " r SET ledger_pending = NULL FROM " + db.table("parley_threads") + " t WHERE t.id = r.thread_id"
                        + " AND r.ledger_pending = TRUE AND r.id IN (SELECT id FROM " + runs + " WHERE events_expired_at IS NULL"
                        + " AND ledger_pending = TRUE ORDER BY completed_at LIMIT :max FOR UPDATE SKIP LOCKED) RETURNING " + read;
        pendingOfThread = select + " AND r.thread_id = :thread";
        pendingRun = select + " AND r.id = :id";
        clear = "UPDATE " + runs + " SET ledger_pending = NULL WHERE id = :id AND ledger_pending = TRUE";
        String hourly = db.table("parley_usage_hourly");
        String threadHourly = db.table("parley_usage_thread_hourly");
        String amounts = " runs = runs + ?, input_tokens = input_tokens + ?, cached_input_tokens = cached_input_tokens + ?,"
                + " output_tokens = output_tokens + ?, cost_usd = cost_usd + ?, unpriced_runs = unpriced_runs + ?";
        addToHourly = "UPDATE " + hourly + " SET" + amounts + " WHERE owner_id = ? AND hour_start = ? AND agent_id = ? AND model = ?";
        addToThreadHourly = "UPDATE " + threadHourly + " SET" + amounts + " WHERE owner_id = ? AND hour_start = ? AND thread_id = ?";
        String columns = " runs, input_tokens, cached_input_tokens, output_tokens, cost_usd, unpriced_runs)";
        String upsert = db.dialect() != Dialect.POSTGRESQL ? "" : " ON CONFLICT (%s) DO UPDATE SET runs = u.runs + EXCLUDED.runs,"
                + " input_tokens = u.input_tokens + EXCLUDED.input_tokens, cached_input_tokens = u.cached_input_tokens"
                + " + EXCLUDED.cached_input_tokens, output_tokens = u.output_tokens + EXCLUDED.output_tokens,"
                + " cost_usd = u.cost_usd + EXCLUDED.cost_usd, unpriced_runs = u.unpriced_runs + EXCLUDED.unpriced_runs";
        String as = db.dialect() == Dialect.POSTGRESQL ? " AS u" : "";
        insertHourly = "INSERT INTO " + hourly + as + " (owner_id, hour_start, agent_id, model," + columns
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + String.format(upsert, "owner_id, hour_start, agent_id, model");
        insertThreadHourly = "INSERT INTO " + threadHourly + as + " (owner_id, hour_start, thread_id," + columns
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" + String.format(upsert, "owner_id, hour_start, thread_id");
        this.timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-usage-folding");
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        timer.scheduleWithFixedDelay(this::foldPending, EVERY_MILLIS, EVERY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Folds every pending run, batch after batch. Returns how many this call folded. */
    int foldPending() {
        int total = 0;
        try {
            int folded;
            do {
                folded = db.atomic(h -> take != null
                        ? addToRows(h, h.createQuery(take).bind("max", BATCH).map((rs, ctx) -> Pending.of(rs)).list())
                        : fold(h, h.createQuery(pending).bind("max", BATCH).map((rs, ctx) -> Pending.of(rs)).list()));
                total += folded;
            } while (folded > 0);
            int failed = failures.getAndSet(0);
            if (failed > 0) {
                LOG.info("usage ledger: folding pending runs works again, after {} failed attempts", failed);
            }
        } catch (RuntimeException e) {
            // once per outage at WARN (the timer tries every second while the database is away), then at DEBUG
            if (failures.getAndIncrement() == 0) {
                LOG.warn("usage ledger: folding pending runs failed, tried again every {} ms: {}", EVERY_MILLIS, e.toString());
            } else {
                LOG.debug("usage ledger: folding pending runs failed again: {}", e.toString());
            }
        }
        return total;
    }

    /** Attempts that failed since the last one that worked. */
    int failuresInARow() {
        return failures.get();
    }

    /** Folds the thread's pending runs on the caller's transaction (before its runs are deleted). */
    void foldThread(Handle h, String threadId) {
        fold(h, h.createQuery(pendingOfThread).bind("thread", threadId).map((rs, ctx) -> Pending.of(rs)).list());
    }

    /** Folds those of the runs that are pending on the caller's transaction (before the runs are deleted). */
    void foldRuns(Handle h, List<String> runIds) {
        List<Pending> read = new ArrayList<>();
        for (String id : runIds) {
            read.addAll(h.createQuery(pendingRun).bind("id", id).map((rs, ctx) -> Pending.of(rs)).list());
        }
        fold(h, read);
    }

    /** A pending run as read, with its thread's owner (all as stored). */
    private record Pending(String id, String threadId, String agentId, String model, Instant completedAt, long input,
                           long cached, long output, BigDecimal cost, String owner) {
        static Pending of(ResultSet rs) throws SQLException {
            String cost = rs.getString("cost_usd");
            return new Pending(rs.getString("id"), rs.getString("thread_id"), rs.getString("agent_id"), rs.getString("model"),
                    rs.getTimestamp("completed_at").toInstant(), rs.getLong("input_tokens"), rs.getLong("cached_input_tokens"),
                    rs.getLong("output_tokens"), cost == null ? null : new BigDecimal(cost), rs.getString("owner_id"));
        }
    }

    /** The sums a ledger row gets: runs, input, cached input and output tokens, cost, unpriced runs. */
    private static final class Sums {
        long runs;
        long input;
        long cached;
        long output;
        BigDecimal cost = BigDecimal.ZERO;
        long unpriced;

        void add(Pending p) {
            runs++;
            input += p.input();
            cached += p.cached();
            output += p.output();
            if (p.cost() == null) {
                unpriced++;
            } else {
                cost = cost.add(p.cost());
            }
        }

        List<Object> values() {
            return List.of(runs, input, cached, output, cost, unpriced);
        }
    }

    /** Clears the flag of the runs read, and adds those whose flag this transaction cleared to their rows. */
    private int fold(Handle h, List<Pending> read) {
        if (read.isEmpty()) {
            return 0;
        }
        PreparedBatch batch = h.prepareBatch(clear);
        read.forEach(p -> batch.bind("id", p.id()).add());
        int[] cleared = batch.execute();
        List<Pending> taken = new ArrayList<>(read.size());
        for (int i = 0; i < read.size(); i++) {
            if (cleared[i] == 1) { // else folded by another transaction first
                taken.add(read.get(i));
            }
        }
        return addToRows(h, taken);
    }

    /** Adds runs whose flag this transaction cleared to their rows. Returns how many. */
    private int addToRows(Handle h, List<Pending> taken) {
        Map<List<Object>, Sums> byAgent = new LinkedHashMap<>();
        Map<List<Object>, Sums> byThread = new LinkedHashMap<>();
        for (Pending p : taken) {
            Timestamp hour = Timestamp.from(p.completedAt().truncatedTo(ChronoUnit.HOURS));
            byAgent.computeIfAbsent(List.of(p.owner(), hour, p.agentId(), p.model()), k -> new Sums()).add(p);
            byThread.computeIfAbsent(List.of(p.owner(), hour, p.threadId()), k -> new Sums()).add(p);
        }
        Connection c = h.getConnection();
        try {
            for (Map.Entry<List<Object>, Sums> e : byAgent.entrySet()) {
                add(c, addToHourly, insertHourly, e.getKey(), e.getValue().values());
            }
            for (Map.Entry<List<Object>, Sums> e : byThread.entrySet()) {
                add(c, addToThreadHourly, insertThreadHourly, e.getKey(), e.getValue().values());
            }
        } catch (SQLException e) {
            throw SqlErrors.translate(e);
        }
        return taken.size();
    }

    /**
     * Adds {@code sums} to the row of {@code key}: on PostgreSQL an upsert; on H2 an update, or an insert
     * when the hour has no row yet (a failed statement leaves an H2 transaction usable: a row another
     * transaction inserted first is then updated).
     */
    private void add(Connection c, String update, String insert, List<Object> key, List<Object> sums) throws SQLException {
        List<Object> keyFirst = new ArrayList<>(key);
        keyFirst.addAll(sums);
        if (db.dialect() == Dialect.POSTGRESQL) {
            execute(c, insert, keyFirst);
            return;
        }
        List<Object> sumsFirst = new ArrayList<>(sums);
        sumsFirst.addAll(key);
        if (execute(c, update, sumsFirst) == 1) {
            return;
        }
        try {
            execute(c, insert, keyFirst);
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState()) || execute(c, update, sumsFirst) != 1) {
                throw e;
            }
        }
    }

    private static int execute(Connection c, String sql, List<Object> values) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < values.size(); i++) {
                s.setObject(i + 1, values.get(i));
            }
            return s.executeUpdate();
        }
    }

    /**
     * Stops folding. A fold under way finishes first (for up to {@value #CLOSE_WAIT_SECONDS} s, then it is interrupted
     * and its transaction rolls back, its runs left pending): the pool the store closes next is not taken from under it.
     */
    @Override
    public void close() {
        Background.stop(timer, CLOSE_WAIT_SECONDS);
    }
}
