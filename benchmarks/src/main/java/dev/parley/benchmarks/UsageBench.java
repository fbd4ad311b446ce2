package dev.parley.benchmarks;

import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatStore;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The usage ledger's two costs. (1) A month's usage report of a user with {@code --runs} runs (default
 * 1,000,000; 20 runs per thread, each thread within one hour of the month, three agents, two models, 20
 * other users with 10,000 runs each), read from the ledger, beside the same report computed by scanning
 * the runs. The runs are written with SQL and the ledger built from them by the schema migration's own
 * backfill (what the ends of those runs would have left). (2) Whole turns through the core with the
 * store keeping thread totals and the ledger, and without, in alternating rounds on one database.
 *
 * <pre>java -jar benchmarks.jar usage [--store=postgres|h2] [--runs=N] [--turns=N] [--rounds=N] [--turns-only]</pre>
 */
public final class UsageBench {
    private static final String USER = "u0";
    private static final Instant MONTH = Instant.parse("2026-11-01T00:00:00Z");
    private static final Instant NEXT_MONTH = Instant.parse("2026-12-01T00:00:00Z");
    private static final int RUNS_PER_THREAD = 20;
    private static final int OTHER_USERS = 20;
    private static final int OTHER_RUNS = 10_000;
    private static final int SLICE = 50_000;

    private UsageBench() {}

    public static void main(String[] args) throws Exception {
        String store = "postgres";
        int runs = 1_000_000;
        int turns = 300;
        int rounds = 6;
        boolean reports = true;
        for (String arg : args) {
            if (arg.equals("--turns-only")) {
                reports = false;
            }
            if (arg.startsWith("--store=")) {
                store = arg.substring(8);
            } else if (arg.startsWith("--runs=")) {
                runs = Integer.parseInt(arg.substring(7));
            } else if (arg.startsWith("--turns=")) {
                turns = Integer.parseInt(arg.substring(8));
            } else if (arg.startsWith("--rounds=")) {
                rounds = Integer.parseInt(arg.substring(9));
            }
        }
        Databases.Kind kind = Databases.Kind.parse(store);
        System.out.printf(Locale.ROOT, "usage benchmark on %s, %s, Java %s%n", kind.label(), Instant.now(), Runtime.version());
        if (reports) {
            report(kind, runs);
        }
        turns(kind, turns, rounds);
    }

    // ---- (1) the month's report ----

    private static void report(Databases.Kind kind, int runs) throws Exception {
        try (Databases.Database db = Databases.open(kind, 4)) {
            ChatStore store = db.chatStore();
            long started = System.nanoTime();
            fill(db, kind, runs);
            System.out.printf(Locale.ROOT, "filled %,d runs of %s (+%,d of %d other users) and the ledger in %.1f s%n", runs, USER,
                    OTHER_USERS * OTHER_RUNS, OTHER_USERS, (System.nanoTime() - started) / 1e9);
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                System.out.printf(Locale.ROOT, "ledger rows: %,d by agent and model, %,d by thread%n",
                        count(s, "parley_usage_hourly"), count(s, "parley_usage_thread_hourly"));
            }
            for (UsageGroup group : List.of(UsageGroup.DAY, UsageGroup.AGENT, UsageGroup.MODEL, UsageGroup.THREAD)) {
                int groups = store.usage().usage(USER, MONTH, NEXT_MONTH, group).size();
                // the end moved by i µs: the same hours, another query
                double[] ms = time(30, i -> store.usage().usage(USER, MONTH, NEXT_MONTH.plusNanos(1_000L * i), group));
                System.out.printf(Locale.ROOT, "report group_by=%-6s %,7d groups: median %8.2f ms, p90 %8.2f ms%n", group.wireName(),
                        groups, ms[0], ms[1]);
            }
            String scan = "SELECT CAST(r.completed_at AS DATE) AS d, count(*), sum(r.input_tokens), sum(r.output_tokens)"
                    + " FROM parley_runs r JOIN parley_threads t ON t.id = r.thread_id WHERE t.owner_id = '" + USER + "'"
                    + " AND r.completed_at >= TIMESTAMP WITH TIME ZONE '2026-11-01 00:00:00+00'"
                    + " AND r.completed_at < TIMESTAMP WITH TIME ZONE '2026-12-01 00:00:00.%06d+00' GROUP BY CAST(r.completed_at AS DATE)";
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                int[] days = new int[1];
                double[] ms = time(5, i -> {
                    try (ResultSet rs = s.executeQuery(String.format(Locale.ROOT, scan, i))) {
                        int n = 0;
                        while (rs.next()) {
                            n++;
                        }
                        days[0] = n;
                        return n;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                System.out.printf(Locale.ROOT, "the same by day scanning the runs: %,7d groups: median %8.2f ms, p90 %8.2f ms%n", days[0], ms[0], ms[1]);
            }
        }
    }

    private static long count(Statement s, String table) throws Exception {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Threads and runs by SQL, then the ledger from the migration's backfill statements. */
    private static void fill(Databases.Database db, Databases.Kind kind, int runs) throws Exception {
        boolean pg = kind == Databases.Kind.POSTGRES;
        List<String> sql = new ArrayList<>();
        int threads = runs / RUNS_PER_THREAD;
        // thread i of u0 lives in hour i % 720 of the month; thread j of user k likewise
        sql.add(threadsSql(pg, USER, "t0_", threads));
        // in slices, each its own transaction (H2 keeps a transaction's undo log until it ends)
        for (int from = 0; from < runs; from += SLICE) {
            sql.add(runsSql(pg, "t0_", from, Math.min(runs, from + SLICE)));
        }
        for (int k = 1; k <= OTHER_USERS; k++) {
            sql.add(threadsSql(pg, "u" + k, "t" + k + "_", OTHER_RUNS / RUNS_PER_THREAD));
            sql.add(runsSql(pg, "t" + k + "_", 0, OTHER_RUNS));
        }
        sql.addAll(backfill(pg));
        sql.add(pg ? "ANALYZE" : "ANALYZE");
        db.execute(sql.toArray(String[]::new));
    }

    private static String series(boolean pg, int n) {
        return series(pg, 0, n);
    }

    /** {@code x} from {@code from} to {@code to} - 1. */
    private static String series(boolean pg, int from, int to) {
        return pg ? "generate_series(" + from + ", " + (to - 1) + ") AS g(x)" : "SYSTEM_RANGE(" + from + ", " + (to - 1) + ") AS g(x)";
    }

    private static String threadsSql(boolean pg, String owner, String prefix, int n) {
        return "INSERT INTO parley_threads (id, owner_id, agent_id, title, metadata, created_at, updated_at)"
                + " SELECT '" + prefix + "' || CAST(x AS VARCHAR), '" + owner + "', 'agent' || CAST(MOD(x, 3) AS VARCHAR), 'bench', '{}'"
                + (pg ? "::jsonb" : "") + ", " + hourOf(pg, "x") + ", " + hourOf(pg, "x") + " FROM " + series(pg, n);
    }

    private static String runsSql(boolean pg, String prefix, int from, int to) {
        String thread = "FLOOR(x / " + RUNS_PER_THREAD + ")";
        String at = hourOf(pg, (pg ? "" : "CAST(") + thread + (pg ? "::int" : " AS INT)"));
        String end = pg ? at + " + (MOD(x, " + RUNS_PER_THREAD + ") * interval '2 minutes')"
                : "DATEADD(MINUTE, MOD(x, " + RUNS_PER_THREAD + ") * 2, " + at + ")";
        return "INSERT INTO parley_runs (id, thread_id, agent_id, model, user_message_id, status, input_tokens, output_tokens,"
                + " usage_estimated, cost_usd, created_at, started_at, completed_at)"
                + " SELECT '" + prefix + "r' || CAST(x AS VARCHAR), '" + prefix + "' || CAST(" + (pg ? thread + "::int" : "CAST(" + thread + " AS INT)")
                + " AS VARCHAR), 'agent' || CAST(MOD(" + (pg ? thread + "::int" : "CAST(" + thread + " AS INT)") + ", 3) AS VARCHAR),"
                + " CASE WHEN MOD(x, 2) = 0 THEN 'gpt-4o-mini' ELSE 'llama3.2' END, 'm' || CAST(x AS VARCHAR), 'completed',"
                + " 1000, 200, false, " + (pg ? "0.00027" : "'0.00027'") + ", " + end + ", " + end + ", " + end
                + " FROM " + series(pg, from, to);
    }

    /** The start of hour {@code index % 720} of the month. */
    private static String hourOf(boolean pg, String index) {
        return pg ? "TIMESTAMPTZ '2026-11-01 00:00:00+00' + (MOD(" + index + ", 720) * interval '1 hour')"
                : "DATEADD(HOUR, MOD(" + index + ", 720), TIMESTAMP WITH TIME ZONE '2026-11-01 00:00:00+00')";
    }

    /** The statements of the V6 migration that build the thread totals and the ledger from the runs. */
    private static List<String> backfill(boolean pg) throws IOException {
        String path = "db/parley/" + (pg ? "postgresql" : "h2") + "/V6__usage_and_trash.sql";
        String script;
        try (InputStream in = UsageBench.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("no " + path + " on the class path");
            }
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> statements = new ArrayList<>();
        for (String statement : script.replaceAll("(?m)^--.*$", "").split(";")) {
            String s = statement.strip();
            // the ledger tables gained cached_input_tokens since (V10): the backfill names its columns, which H2 requires
            if (s.startsWith("INSERT INTO parley_usage_hourly")) {
                statements.add(s.replaceFirst("parley_usage_hourly", "parley_usage_hourly"
                        + " (owner_id, hour_start, agent_id, model, runs, input_tokens, output_tokens, cost_usd, unpriced_runs)"));
            } else if (s.startsWith("INSERT INTO parley_usage_thread_hourly")) {
                statements.add(s.replaceFirst("parley_usage_thread_hourly", "parley_usage_thread_hourly"
                        + " (owner_id, hour_start, thread_id, runs, input_tokens, output_tokens, cost_usd, unpriced_runs)"));
            } else if (s.startsWith("UPDATE parley_threads")) {
                statements.add(s);
            }
        }
        return statements;
    }

    /** Median and p90 of {@code n} timed calls (after three untimed), in milliseconds. */
    /**
     * Median and p90 of {@code n} calls after 3 untimed; each call gets its number, to vary its query (H2 hands back a
     * query's last result when it runs again unchanged on unchanged tables, which would time nothing).
     */
    private static double[] time(int n, IntFunction<?> call) {
        for (int i = 0; i < 3; i++) {
            call.apply(n + i);
        }
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            call.apply(i);
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        return new double[] {ms[n / 2], ms[(int) Math.min(n - 1, Math.ceil(n * 0.9) - 1)]};
    }

    // ---- (2) the turn, with and without thread totals ----

    private static void turns(Databases.Kind kind, int turns, int rounds) throws Exception {
        try (Databases.Database db = Databases.open(kind, 10)) {
            Map<Boolean, List<double[]>> perRound = Map.of(true, new ArrayList<>(), false, new ArrayList<>());
            try (ChatService with = service(db.chatStore(true)); ChatService without = service(db.chatStore(false))) {
                // warm-up of both, then alternating rounds so that drift of the machine hits both alike
                round(with, "warm-a", turns / 2);
                round(without, "warm-b", turns / 2);
                for (int r = 0; r < rounds; r++) {
                    boolean first = r % 2 == 0;
                    perRound.get(first).add(round(first ? with : without, "r" + r + "a", turns));
                    perRound.get(!first).add(round(first ? without : with, "r" + r + "b", turns));
                }
            }
            for (int m = 0; m < 2; m++) {
                String what = m == 0 ? "wall time" : "process CPU";
                int i = m;
                double withMs = median(perRound.get(true).stream().map(v -> v[i]).toList());
                double withoutMs = median(perRound.get(false).stream().map(v -> v[i]).toList());
                System.out.printf(Locale.ROOT, "%s, turn with thread totals and ledger: median of %d rounds %.3f ms per turn%n",
                        what, rounds, withMs);
                System.out.printf(Locale.ROOT, "%s, turn without:                       median of %d rounds %.3f ms per turn%n",
                        what, rounds, withoutMs);
                System.out.printf(Locale.ROOT, "%s, with / without: %.3fx%n", what, withMs / withoutMs);
                // each round beside its neighbour of the other kind: drift of the machine over the run cancels out
                List<Double> paired = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    paired.add(perRound.get(true).get(r)[i] / perRound.get(false).get(r)[i]);
                }
                System.out.printf(Locale.ROOT, "%s, with / without, median of the %d rounds' own ratios: %.3fx%n", what, rounds,
                        median(paired));
            }
        }
    }

    private static ChatService service(ChatStore store) {
        return ChatService.builder().store(store).model(new BenchModel())
                .agents(List.of(Agent.builder("assistant").instructions("You are a benchmark.").model("bench").build()))
                .prices(Map.of("bench", ModelPrice.of("0.15", "0.60")))
                .build();
    }

    /**
     * Mean milliseconds per turn of {@code turns} sequential turns, a new thread every 50: wall time, and the
     * process's CPU time (every thread: the run's, the compaction's, the database's), which the other
     * processes of a shared machine disturb less than the wall time.
     */
    private static double[] round(ChatService chat, String user, int turns) throws InterruptedException {
        long started = System.nanoTime();
        long cpuStarted = processCpuNanos();
        ThreadId thread = null;
        for (int i = 0; i < turns; i++) {
            if (i % 50 == 0) {
                thread = chat.createThread(new CreateThreadCommand(user, null, null, null)).id();
            }
            var sent = chat.send(SendMessageCommand.text(user, thread, "zero:3"));
            RunOutcome outcome = chat.await(user, sent.run().id(), Duration.ofSeconds(60));
            if (outcome.run().status() != RunStatus.COMPLETED) {
                throw new IllegalStateException("the run ended as " + outcome.run().status());
            }
        }
        return new double[] {(System.nanoTime() - started) / 1e6 / turns, (processCpuNanos() - cpuStarted) / 1e6 / turns};
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
