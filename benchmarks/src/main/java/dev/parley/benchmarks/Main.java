package dev.parley.benchmarks;

import dev.parley.benchmarks.jmh.JmhSuite;
import dev.parley.benchmarks.load.AdmissionBurst;
import dev.parley.benchmarks.load.ApprovalLatency;
import dev.parley.benchmarks.load.McpCancelLatency;
import dev.parley.benchmarks.load.CancelLatency;
import dev.parley.benchmarks.load.CompatStreams;
import dev.parley.benchmarks.load.FakeOpenAi;
import dev.parley.benchmarks.load.FirstToken;
import dev.parley.benchmarks.load.IdleStreams;
import dev.parley.benchmarks.load.Limit;
import dev.parley.benchmarks.load.ServerProcess;
import dev.parley.benchmarks.load.TokenDelivery;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The entry point of {@code benchmarks.jar}:
 * <pre>
 * java -jar benchmarks.jar all [--quick] [--only=1,2,3,4,5,6,7,8,9,10,11,12,13] [--idle-streams=N] [--cancels=N] [--cancel-lanes=N] [--cancel-warmup=N] [--warm-seconds=S] [--delivery-store=memory|h2|postgres] [--model=async|blocking] [--out=DIR]
 *                                                                             every scenario, then the summary table
 * java -jar benchmarks.jar tracing [--rounds=N] [--seconds=S] [--samples=N]  scenario 11 alone
 * java -jar benchmarks.jar profile [--seconds=N] [--store=memory|h2|postgres] JFR profile of the hot path
 * java -jar benchmarks.jar jfr-summary FILE.jfr                               summary of a recording's execution samples
 * java -jar benchmarks.jar server --stores=memory,h2,postgres [--bare] ...    the server under test alone
 * java -jar benchmarks.jar finished-heap [--store=...] [--tokens=N] [--seconds=S] [--threads=T]  heap kept per finished turn
 * java -jar benchmarks.jar turn-time [--store=...] [--turns=N] [--plain]  where a sequential turn's time goes
 * java -jar benchmarks.jar jmh [JMH options]                                  JMH's own command line
 * </pre>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        // The JDK client keeps an idle connection as long as Jetty does (30 s each): a request sent on one the
        // server is closing at that moment fails ("header parser received no bytes"). The client closes first.
        if (System.getProperty("jdk.httpclient.keepalive.timeout") == null) {
            System.setProperty("jdk.httpclient.keepalive.timeout", "10");
        }
        String command = args.length == 0 ? "all" : args[0];
        String[] rest = args.length == 0 ? new String[0] : Arrays.copyOfRange(args, 1, args.length);
        switch (command) {
            case "all" -> all(rest);
            case "profile" -> profile(rest);
            case "jfr-summary" -> System.out.println(Profile.summarize(Path.of(rest[0]), 25));
            case "server" -> BenchServer.main(rest);
            case "eventlog-size" -> EventLogSize.main(rest);
            case "jmh" -> org.openjdk.jmh.Main.main(rest);
            case "usage" -> UsageBench.main(rest);
            case "tracing" -> TracingBench.main(rest);
            case "turn-sql" -> turnSql(rest);
            case "finished-heap" -> FinishedRunsHeap.main(rest);
            case "statement-costs" -> StatementCosts.main(rest);
            case "turn-time" -> TurnTimeline.main(rest);
            default -> {
                System.err.println("usage: all [--quick] [--only=1,...,13] [--idle-streams=N] [--cancels=N] [--cancel-lanes=N] [--cancel-warmup=N] [--warm-seconds=S] [--delivery-store=memory|h2|postgres] [--model=async|blocking] [--out=DIR] | profile [--seconds=N] [--store=memory|h2|postgres] | jfr-summary FILE | eventlog-size [--runs=N] [--tokens=N] [--flush=N]"
                        + " | usage [--store=postgres|h2] [--runs=N] [--turns=N] [--rounds=N] [--turns-only] | turn-sql [--store=h2|postgres]"
                        + " | finished-heap [--store=postgres|h2|memory] [--tokens=N] [--seconds=S] [--threads=T]"
                        + " | statement-costs [--store=postgres|h2] [--n=N] | turn-time [--store=postgres|h2] [--turns=N] [--plain]"
                        + " | server OPTIONS | jmh OPTIONS");
                System.exit(2);
            }
        }
        System.exit(0);
    }

    /** The whole number after the {@code =} of {@code --option=N}, which must be 1 or more. */
    static int atLeastOne(String arg) {
        String option = arg.substring(0, arg.indexOf('='));
        try {
            int n = Integer.parseInt(arg.substring(option.length() + 1));
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(option + " takes a whole number of 1 or more, not " + arg.substring(option.length() + 1));
    }

    /** Prints the statements (and writing commits) of one sequential turn through the core, in order: what section 0 counts. */
    private static void turnSql(String[] args) throws Exception {
        Databases.Kind kind = Databases.Kind.H2;
        for (String arg : args) {
            if (arg.startsWith("--store=")) {
                kind = Databases.Kind.valueOf(arg.substring("--store=".length()).toUpperCase(java.util.Locale.ROOT));
            }
        }
        List<String> sql = new ArrayList<>();
        Probes.TurnCost cost = Probes.perTurn(kind, 1, sql);
        sql.forEach(System.out::println);
        System.out.printf(java.util.Locale.ROOT, "%s: %.0f writing commits, %.0f statements%n", kind.label(), cost.commits(), cost.statements());
    }

    private static void all(String[] args) throws Exception {
        boolean quick = false;
        Integer idleStreams = null;
        Integer cancels = null;
        int cancelLanes = 4;
        Integer cancelWarmup = null;
        Integer warmSeconds = null;
        String deliveryStore = "memory";
        String model = "async";
        Set<String> only = new HashSet<>(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13"));
        Path out = Path.of("benchmarks/target/results");
        for (String arg : args) {
            if (arg.equals("--quick")) {
                quick = true;
            } else if (arg.startsWith("--only=")) {
                only = new HashSet<>(List.of(arg.substring(7).split(",")));
            } else if (arg.startsWith("--out=")) {
                out = Path.of(arg.substring(6));
            } else if (arg.startsWith("--idle-streams=")) {
                idleStreams = atLeastOne(arg);
            } else if (arg.startsWith("--cancels=")) {
                cancels = atLeastOne(arg);
            } else if (arg.startsWith("--cancel-lanes=")) {
                cancelLanes = atLeastOne(arg);
            } else if (arg.startsWith("--warm-seconds=")) {
                warmSeconds = atLeastOne(arg);
            } else if (arg.startsWith("--cancel-warmup=")) {
                cancelWarmup = atLeastOne(arg);
            } else if (arg.startsWith("--delivery-store=")) {
                deliveryStore = Databases.Kind.parse(arg.substring("--delivery-store=".length())).name().toLowerCase(Locale.ROOT);
            } else if (arg.startsWith("--model=")) {
                model = arg.substring("--model=".length());
                BenchServer.Options.modelForm(model);
            } else {
                throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        Files.createDirectories(out);
        long started = System.nanoTime();
        boolean pg = Databases.postgresAvailable();
        List<String> databases = new ArrayList<>(List.of("h2"));
        if (pg) {
            databases.add("postgres");
        }
        List<String> stores = new ArrayList<>(List.of("memory"));
        stores.addAll(databases);
        Report report = new Report(out, conditions(quick, pg) + " The servers' cost-free model is the " + model + " one (--model).");
        System.out.println(report.markdown());
        for (String db : databases) {
            double commit = Probes.commitMicros(Databases.Kind.parse(db), quick ? 100 : 300);
            report.add("0", "context: one-row insert + commit, plain JDBC, p50, " + db, Report.micros(commit), null, null,
                    db.equals("postgres") ? "synchronous_commit=on: every commit waits for its WAL flush" : "H2 MVStore file");
            long[] paced = Probes.commitNanos(Databases.Kind.parse(db), quick ? 20 : 60, 100, 50_000);
            report.add("0", "context: the same, one commit every 50 ms, p50 / p90, " + db, Report.micros(paced[paced.length / 2] / 1_000.0)
                    + " / " + Report.micros(paced[paced.length * 9 / 10] / 1_000.0), null, null,
                    "the machine idles between commits, as between scenario 1's turns at 20/s");
            Probes.TurnCost cost = Probes.perTurn(Databases.Kind.parse(db), quick ? 20 : 50);
            report.add("0", "context: writing commits / statements per turn through the core, " + db,
                    String.format(Locale.ROOT, "%.1f / %.1f", cost.commits(), cost.statements()), null, null,
                    "counted at the JDBC interface over sequential turns (zero:3); the bare handler of 7 makes 2 writing commits and 12 statements");
        }

        if (only.contains("1") || only.contains("2") || only.contains("4") || only.contains("7") || only.contains("12")) {
            try (FakeOpenAi fake = new FakeOpenAi(100);
                 ServerProcess server = ServerProcess.start(List.of("-Xmx2g"),
                         List.of("--stores=" + String.join(",", stores), "--bare", "--openai=" + fake.baseUrl(), "--model=" + model),
                         out.resolve("server-main.log"))) {
                if (only.contains("1")) {
                    section("1 first token");
                    FirstToken.run(server, stores, 200, warmSeconds != null ? warmSeconds : quick ? 1 : 5, quick ? 2 : 20, report);
                    if (!quick) {
                        // the database stores again at a rate they sustain, to tell queueing from per-turn cost
                        FirstToken.run(server, databases, 20, 3, 15, report);
                    }
                }
                if (only.contains("2")) {
                    section("2 token delivery");
                    TokenDelivery.run(server, deliveryStore, quick ? 200 : 1000, quick ? 4 : 20, quick ? 1 : 5, report);
                }
                if (only.contains("4")) {
                    section("4 cancel");
                    CancelLatency.run(server, fake, cancelWarmup != null ? cancelWarmup : quick ? 8 : 1000,
                            cancels != null ? cancels : quick ? 24 : 200, cancelLanes, quick ? 8 : 50, report);
                }
                if (only.contains("7")) {
                    section("7 the limit");
                    Limit.run(server, databases, 16, quick ? 1 : 3, quick ? 0.5 : 3, quick ? 2 : 8, report);
                }
                if (only.contains("12")) {
                    section("12 OpenAI-compatible facade");
                    CompatStreams.run(server, 20, warmSeconds != null ? warmSeconds : quick ? 1 : 5, quick ? 3 : 30, quick ? 2_000 : 20_000, quick ? 3 : 7, report);
                }
            }
        }
        if (only.contains("3")) {
            section("3 idle streams");
            IdleStreams.run(idleStreams != null ? idleStreams : quick ? 300 : 10_000, quick ? 4 : 60, quick ? 1_000 : 15_000, 4, model, out, report);
        }
        if (only.contains("8")) {
            section("8 approvals");
            for (String db : databases) {
                ApprovalLatency.run(Databases.Kind.parse(db), quick ? 20 : 200, quick ? 500 : 10_000, report);
            }
        }
        if (only.contains("10")) {
            section("10 burst with admission off and on");
            // one server over the database that servers share (PostgreSQL when it answers), default pool of 10
            Databases.Kind kind = Databases.Kind.parse(pg ? "postgres" : "h2");
            AdmissionBurst.run(kind, quick ? 200 : 1000, new int[] {0, 32, 128}, report);
        }
        if (only.contains("13")) {
            section("13 cancel during a long MCP tool call");
            String everything = System.getenv().getOrDefault("PARLEY_BENCH_MCP_EVERYTHING",
                    "adapter-mcp/mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
            McpCancelLatency.run(Path.of(everything), quick ? 20 : 200, out, report);
        }
        JmhSuite jmh = new JmhSuite(quick, databases);
        if (only.contains("5")) {
            section("5 persistence (JMH)");
            jmh.turns(report);
        }
        if (only.contains("6")) {
            section("6 history scaling (JMH)");
            jmh.history(report);
        }
        if (only.contains("9")) {
            section("9 conversation tree (JMH)");
            jmh.tree(report);
        }
        if (only.contains("11")) {
            section("11 tracing on vs off");
            for (String store : stores) {
                Databases.Kind kind = Databases.Kind.parse(store);
                TracingBench.Side[] sides = TracingBench.run(kind, quick ? 2 : 5, quick ? 2 : 5, quick ? 50 : 300);
                double offFirst = TracingBench.median(sides[0].firstTokenP50());
                double onFirst = TracingBench.median(sides[1].firstTokenP50());
                double offTurns = TracingBench.median(sides[0].turnsPerSecond());
                double onTurns = TracingBench.median(sides[1].turnsPerSecond());
                report.add("11", "first token p50, tracing off / on, " + store, Report.micros(offFirst) + " / " + Report.micros(onFirst),
                        "on within 5% of off", onFirst <= offFirst * 1.05, "on / off " + Report.ratio(onFirst / offFirst));
                report.add("11", "turns/s, 8 threads, tracing off / on, " + store, Report.num(offTurns, "/s") + " / "
                        + Report.num(onTurns, "/s"), "on within 5% of off", onTurns >= offTurns * 0.95,
                        "on / off " + Report.ratio(onTurns / offTurns));
                System.out.println(kind.label() + "\n" + TracingBench.table(sides));
            }
        }
        if (!pg) {
            report.skipped("-", "PostgreSQL figures", "PostgreSQL at " + Databases.PG_URL + " did not answer");
        }
        report.add("0", "context: load average (1 / 5 / 15 min) at the end of the run", loadAverage(), null, null,
                "other work on the machine shares its 2 cores");
        System.out.println();
        System.out.println(report.markdown());
        System.out.printf(Locale.ROOT, "total %.0f s; results in %s%n", (System.nanoTime() - started) / 1e9,
                out.resolve("results.md").toAbsolutePath());
    }

    private static void profile(String[] args) throws Exception {
        double seconds = 20;
        String store = "memory";
        Path out = Path.of("benchmarks/target/results");
        for (String arg : args) {
            if (arg.startsWith("--store=")) {
                store = arg.substring(8);
            } else if (arg.startsWith("--seconds=")) {
                seconds = Double.parseDouble(arg.substring(10));
            } else if (arg.startsWith("--out=")) {
                out = Path.of(arg.substring(6));
            } else {
                throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        Profile.record(out, seconds, 16, store);
    }

    private static final long STARTED = System.nanoTime();

    private static void section(String name) {
        System.out.println();
        System.out.printf(Locale.ROOT, "== %s (at %.0f s)%n", name, (System.nanoTime() - STARTED) / 1e9);
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return parts[0] + " / " + parts[1] + " / " + parts[2];
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static String conditions(boolean quick, boolean pg) {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
        } catch (Exception ignored) {
            // not Linux
        }
        String load = "";
        try {
            load = Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
        } catch (Exception ignored) {
            // not Linux
        }
        long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        return "Run " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + (quick ? " (quick mode)" : " (full)") + ": "
                + Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + (memory >> 30) + " GiB, Java "
                + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + "), virtual threads "
                + (Jdk.hasVirtualThreads() ? "on" : "off") + ", load average " + load + " at start; PostgreSQL "
                + (pg ? Databases.PG_URL : "not available") + ", H2 file; load generator and server on the same machine.";
    }
}
