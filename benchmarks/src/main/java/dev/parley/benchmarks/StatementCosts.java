package dev.parley.benchmarks;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ChatStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * What single statements cost on a database, timed at the JDBC interface on one pooled connection, beside an
 * append through Parley's store: the figures that a turn's round trips and commits are made of. Each is timed
 * back to back after untimed ones; the round trip and the commit also one every 50 ms, as between the turns of
 * scenario 1's slow rate, when the machine idles.
 *
 * <pre>java -jar benchmarks.jar statement-costs [--store=postgres|h2] [--n=N]</pre>
 */
final class StatementCosts {
    private static final int THREADS = 200;
    private static final long PAUSE_MICROS = 50_000;

    private StatementCosts() {}

    static void main(String[] args) throws Exception {
        Databases.Kind kind = Databases.Kind.parse("postgres");
        int n = 3_000;
        for (String arg : args) {
            if (arg.startsWith("--store=")) {
                kind = Databases.Kind.parse(arg.substring("--store=".length()));
            } else if (arg.startsWith("--n=")) {
                n = Integer.parseInt(arg.substring("--n=".length()));
            } else {
                throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (n < 30) {
            throw new IllegalArgumentException("--n must be at least 30 (the paced figures time n / 30)");
        }
        try (Databases.Database db = Databases.open(kind, 2)) {
            ChatStore store = db.chatStore();
            IdGenerator ids = IdGenerator.timeOrdered();
            List<String> threads = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                ThreadId id = ThreadId.next(ids);
                store.threads().insert(ChatThread.create(id, "alice", "agent", null, Map.of(), Instant.now()));
                threads.add(id.value());
            }
            System.out.println(db + ", " + THREADS + " threads, " + n + " timed of each after " + n / 3 + " untimed; p50 / p90");
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(true);
                time("round trip (SELECT 1), back to back", n, 0, c, "SELECT 1", null);
                time("round trip (SELECT 1), one every 50 ms", n / 30, PAUSE_MICROS, c, "SELECT 1", null);
                time("select of a thread by key", n, 0, c, "SELECT message_count FROM parley_threads WHERE id = ?", threads);
                c.setAutoCommit(false);
                String move = kind == Databases.Kind.POSTGRES
                        ? "UPDATE parley_threads t SET message_count = t.message_count + 1, updated_at = GREATEST(t.updated_at, now())"
                                + " FROM (SELECT id, active_leaf_id FROM parley_threads WHERE id = ? FOR UPDATE) o WHERE t.id = o.id"
                                + " RETURNING o.active_leaf_id"
                        : "SELECT active_leaf_id FROM OLD TABLE (UPDATE parley_threads SET message_count = message_count + 1,"
                                + " updated_at = GREATEST(updated_at, CURRENT_TIMESTAMP) WHERE id = ?)";
                time("the thread row's update that an append makes (in a transaction, not counting its commit)", n, 0, c, move,
                        threads);
                time("a thread row locked (SELECT ... FOR UPDATE, in a transaction)", n, 0, c,
                        "SELECT active_leaf_id FROM parley_threads WHERE id = ? FOR UPDATE", threads);
                c.setAutoCommit(true);
                time("one-row update committed on its own, back to back", n, 0, c,
                        "UPDATE parley_threads SET message_count = message_count + 1 WHERE id = ?", threads);
                time("one-row update committed on its own, one every 50 ms", n / 30, PAUSE_MICROS, c,
                        "UPDATE parley_threads SET message_count = message_count + 1 WHERE id = ?", threads);
            }
            long[] appends = new long[n];
            for (int i = -n / 3; i < n; i++) {
                ThreadId thread = new ThreadId(threads.get(Math.floorMod(i, THREADS)));
                Message m = Message.user(MessageId.next(ids), thread, "a question of a few words", Instant.now());
                long t0 = System.nanoTime();
                store.messages().append(m);
                if (i >= 0) {
                    appends[i] = System.nanoTime() - t0;
                }
            }
            report("an append through Parley's store (its transaction and commit)", appends);
        }
    }

    /** Times {@code sql} (binding a thread id from {@code keys} when given), committing after each when in a transaction. */
    private static void time(String what, int n, long pauseMicros, Connection c, String sql, List<String> keys) throws SQLException {
        long[] took = new long[n];
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = -n / 3; i < n; i++) {
                if (i >= 0 && pauseMicros > 0) {
                    LockSupport.parkNanos(pauseMicros * 1_000);
                }
                if (keys != null) {
                    s.setString(1, keys.get(Math.floorMod(i, keys.size())));
                }
                long t0 = System.nanoTime();
                if (s.execute()) {
                    try (ResultSet rs = s.getResultSet()) {
                        while (rs.next()) {
                            // read the row
                        }
                    }
                }
                long t1 = System.nanoTime();
                if (!c.getAutoCommit()) {
                    c.commit();
                }
                if (i >= 0) {
                    took[i] = t1 - t0;
                }
            }
        }
        report(what, took);
    }

    private static void report(String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "  %-95s %7.1f / %7.1f us%n", what, sorted[sorted.length / 2] / 1e3,
                sorted[sorted.length * 9 / 10] / 1e3);
    }
}
