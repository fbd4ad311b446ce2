package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Report;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the in-process benchmarks (scenarios 5 and 6) through JMH's API and turns their results into
 * report rows: medians of the iterations, and Spring AI / Parley ratios at each thread length.
 */
public final class JmhSuite {
    private final boolean quick;
    private final List<String> databases;
    private final String jvmHeap;

    public JmhSuite(boolean quick, List<String> databases) {
        this.quick = quick;
        this.databases = databases;
        this.jvmHeap = "-Xmx3g";
    }

    private ChainedOptionsBuilder base(String include) {
        ChainedOptionsBuilder b = new OptionsBuilder().include(include)
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT)
                .jvmArgsAppend(jvmHeap, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        // quick mode runs in this JVM to save the forks' start-up; the full run forks a JVM per benchmark
        return b.forks(quick ? 0 : 1);
    }

    /** Scenario 5: turns per second through the core on each store. */
    public void turns(Report report) throws RunnerException {
        List<String> stores = new java.util.ArrayList<>(List.of("memory"));
        stores.addAll(databases);
        ChainedOptionsBuilder b = base(TurnBenchmark.class.getName() + ".turn")
                .param("store", stores.toArray(String[]::new))
                .threads(8)
                .warmupIterations(quick ? 1 : 3).warmupTime(TimeValue.seconds(quick ? 1 : 3))
                .measurementIterations(quick ? 2 : 5).measurementTime(TimeValue.seconds(quick ? 1 : 4));
        Map<String, Double> goals = Map.of("memory", 60_000.0, "h2", 5_000.0, "postgres", 1_500.0);
        for (RunResult r : new Runner(b.build()).run()) {
            String store = r.getParams().getParam("store");
            double median = r.getPrimaryResult().getStatistics().getPercentile(50);
            report.add("5", "turns/s through the core, " + store, Report.num(median, "/s"),
                    ">= " + Report.num(goals.get(store), "/s"), median >= goals.get(store),
                    "8 threads, median of " + r.getPrimaryResult().getStatistics().getN() + " iterations"
                            + (store.equals("postgres") ? ", synchronous_commit=on" : ""));
        }
    }

    /** Scenario 6: history scaling beside Spring AI, and the thread list at depth. */
    public void history(Report report) throws RunnerException {
        if (databases.isEmpty()) {
            report.skipped("6", "history scaling", "no database");
            return;
        }
        String[] lengths = quick ? new String[] {"10", "1000"} : new String[] {"10", "100", "1000", "10000"};
        int warm = quick ? 2 : 10;
        int measure = quick ? 8 : 40;
        Map<String, Double> p50 = new HashMap<>();
        List<RunResult> results = new java.util.ArrayList<>();
        for (String op : List.of("turn", "load")) {
            String[] impls = op.equals("turn") ? new String[] {"parley-store", "parley-core", "spring-ai"}
                    : new String[] {"parley-store", "spring-ai"};
            ChainedOptionsBuilder b = base(HistoryBenchmark.class.getName() + "." + op + "$")
                    .param("store", databases.toArray(String[]::new))
                    .param("impl", impls)
                    .param("length", lengths)
                    .param("operations", Integer.toString(warm + measure))
                    .warmupIterations(warm).measurementIterations(measure).measurementBatchSize(1).warmupBatchSize(1);
            results.addAll(new Runner(b.build()).run());
        }
        for (RunResult r : results) {
            String key = r.getParams().getBenchmark().replaceAll(".*\\.", "") + "/" + r.getParams().getParam("store") + "/"
                    + r.getParams().getParam("impl") + "/" + r.getParams().getParam("length");
            p50.put(key, r.getPrimaryResult().getStatistics().getPercentile(50));
        }
        for (String db : databases) {
            for (String length : lengths) {
                double parley = p50.getOrDefault("turn/" + db + "/parley-store/" + length, Double.NaN);
                double core = p50.getOrDefault("turn/" + db + "/parley-core/" + length, Double.NaN);
                double spring = p50.getOrDefault("turn/" + db + "/spring-ai/" + length, Double.NaN);
                double parleyLoad = p50.getOrDefault("load/" + db + "/parley-store/" + length, Double.NaN);
                double springLoad = p50.getOrDefault("load/" + db + "/spring-ai/" + length, Double.NaN);
                report.add("6", "turn persist, " + db + ", " + length + " msgs: Parley store / Parley core / Spring AI",
                        Report.micros(parley) + " / " + Report.micros(core) + " / " + Report.micros(spring), null, null,
                        "Spring AI / Parley store " + Report.ratio(spring / parley));
                report.add("6", "history load, " + db + ", " + length + " msgs: Parley window / Spring AI all",
                        Report.micros(parleyLoad) + " / " + Report.micros(springLoad), null, null,
                        "Spring AI / Parley " + Report.ratio(springLoad / parleyLoad));
            }
            String longest = lengths[lengths.length - 1];
            double flat = p50.getOrDefault("turn/" + db + "/parley-store/" + longest, Double.NaN)
                    / p50.getOrDefault("turn/" + db + "/parley-store/10", Double.NaN);
            double flatCore = p50.getOrDefault("turn/" + db + "/parley-core/" + longest, Double.NaN)
                    / p50.getOrDefault("turn/" + db + "/parley-core/10", Double.NaN);
            report.add("6", "Parley turn at " + longest + " vs 10 msgs, " + db, Report.ratio(flat) + " (store), "
                    + Report.ratio(flatCore) + " (core)", "<= 1.5x", flat <= 1.5 && flatCore <= 1.5, "flat in thread length");
        }
        warmedTurn(report);
        threadList(report);
    }

    /**
     * Scenario 6's goal once the code is compiled: one sequential turn at 10 messages, Parley's core and store
     * beside Spring AI's, the median of single operations after many untimed ones in the same fork (the single
     * shots above measure mostly code the JIT has not compiled yet).
     */
    private void warmedTurn(Report report) throws RunnerException {
        int warm = quick ? 20 : 2000;
        int measure = quick ? 20 : 1000;
        ChainedOptionsBuilder b = base(HistoryBenchmark.class.getName() + ".turn$")
                .param("store", databases.toArray(String[]::new))
                .param("impl", "parley-core", "parley-store", "spring-ai")
                .param("length", "10")
                .param("operations", Integer.toString(warm + measure))
                .warmupIterations(warm).measurementIterations(measure).measurementBatchSize(1).warmupBatchSize(1);
        Map<String, Double> p50 = new HashMap<>();
        for (RunResult r : new Runner(b.build()).run()) {
            p50.put(r.getParams().getParam("store") + "/" + r.getParams().getParam("impl"),
                    r.getPrimaryResult().getStatistics().getPercentile(50));
        }
        for (String db : databases) {
            double core = p50.getOrDefault(db + "/parley-core", Double.NaN);
            double store = p50.getOrDefault(db + "/parley-store", Double.NaN);
            double spring = p50.getOrDefault(db + "/spring-ai", Double.NaN);
            report.add("6", "one sequential turn at 10 msgs, warmed, " + db + ": Parley core / Parley store / Spring AI, p50",
                    Report.micros(core) + " / " + Report.micros(store) + " / " + Report.micros(spring),
                    "core no slower than Spring AI", core <= spring,
                    "Parley core / Spring AI " + Report.ratio(core / spring) + "; " + measure + " turns after " + warm + " untimed");
        }
    }

    /** Scenario 9: the conversation tree, a short thread beside one of 10,000 messages in 50 branches. */
    public void tree(Report report) throws RunnerException {
        if (databases.isEmpty()) {
            report.skipped("9", "conversation tree", "no database");
            return;
        }
        int warm = quick ? 2 : 10;
        int measure = quick ? 8 : 40;
        String[] shapes = {"10", "10000x50"};
        Map<String, Double> p50 = new HashMap<>();
        for (String op : List.of("append", "window", "page", "walkPage", "turn")) {
            ChainedOptionsBuilder b = base(TreeBenchmark.class.getName() + "." + op + "$")
                    .param("store", databases.toArray(String[]::new))
                    .param("shape", shapes)
                    .param("mode", op.equals("turn") ? new String[] {"plain", "edit"} : new String[] {"plain"})
                    .param("pool", quick ? "1" : "2")
                    .warmupIterations(warm).measurementIterations(measure).measurementBatchSize(1).warmupBatchSize(1);
            for (RunResult r : new Runner(b.build()).run()) {
                p50.put(op + "/" + r.getParams().getParam("store") + "/" + r.getParams().getParam("shape") + "/"
                        + r.getParams().getParam("mode"), r.getPrimaryResult().getStatistics().getPercentile(50));
            }
        }
        for (String db : databases) {
            for (String op : List.of("append", "window", "page")) {
                double small = p50.getOrDefault(op + "/" + db + "/10/plain", Double.NaN);
                double large = p50.getOrDefault(op + "/" + db + "/10000x50/plain", Double.NaN);
                String what = switch (op) {
                    case "append" -> "append to the active leaf";
                    case "window" -> "history window (latest " + HistoryBenchmark.WINDOW + ")";
                    default -> "page of 20 from the middle of the active path";
                };
                report.add("9", what + ", " + db + ": 10 msgs / 10,000 msgs in 50 branches, p50",
                        Report.micros(small) + " / " + Report.micros(large), "<= 1.5x", large / small <= 1.5,
                        "10,000 / 10: " + Report.ratio(large / small));
            }
            double walkSmall = p50.getOrDefault("walkPage/" + db + "/10/plain", Double.NaN);
            double walkLarge = p50.getOrDefault("walkPage/" + db + "/10000x50/plain", Double.NaN);
            report.add("9", "the same page by a recursive walk from the leaf (parent links only), " + db
                            + ": 10 msgs / 10,000 msgs in 50 branches, p50",
                    Report.micros(walkSmall) + " / " + Report.micros(walkLarge), null, null,
                    "10,000 / 10: " + Report.ratio(walkLarge / walkSmall) + "; the layout not chosen");
            for (String shape : shapes) {
                double plain = p50.getOrDefault("turn/" + db + "/" + shape + "/plain", Double.NaN);
                double edit = p50.getOrDefault("turn/" + db + "/" + shape + "/edit", Double.NaN);
                report.add("9", "turn through the core, " + db + ", " + (shape.equals("10") ? "10 msgs" : "10,000 msgs in 50 branches")
                                + ": plain / edit-and-resend, p50",
                        Report.micros(plain) + " / " + Report.micros(edit), null, null, "edit / plain " + Report.ratio(edit / plain));
            }
        }
    }

    private void threadList(Report report) throws RunnerException {
        listPages(report, ThreadListBenchmark.class, "threads", quick ? 5_000 : 100_000, "list threads (20)");
        listPages(report, AgentListBenchmark.class, "agents", 10_000, "list agents (20)");
    }

    /** A first page and a middle page of a keyset-paged list at {@code size} rows, side by side. */
    private void listPages(Report report, Class<?> benchmark, String sizeParam, int size, String what) throws RunnerException {
        ChainedOptionsBuilder b = base(benchmark.getName())
                .param("store", databases.toArray(String[]::new))
                .param(sizeParam, Integer.toString(size))
                .warmupIterations(1).warmupTime(TimeValue.milliseconds(quick ? 300 : 2000))
                .measurementIterations(quick ? 2 : 3).measurementTime(TimeValue.milliseconds(quick ? 400 : 2000));
        Map<String, Double> p50 = new HashMap<>();
        Map<String, Double> p99 = new HashMap<>();
        for (RunResult r : new Runner(b.build()).run()) {
            String key = r.getParams().getBenchmark().replaceAll(".*\\.", "") + "/" + r.getParams().getParam("store");
            p50.put(key, r.getPrimaryResult().getStatistics().getPercentile(50));
            p99.put(key, r.getPrimaryResult().getStatistics().getPercentile(99));
        }
        for (String db : databases) {
            report.add("6", what + ", " + db + ", " + String.format(Locale.ROOT, "%,d", size) + " " + sizeParam
                            + ": first page / middle page, p50",
                    Report.micros(p50.getOrDefault("firstPage/" + db, Double.NaN)) + " / "
                            + Report.micros(p50.getOrDefault("middlePage/" + db, Double.NaN)), null, null,
                    "p99 " + Report.micros(p99.getOrDefault("firstPage/" + db, Double.NaN)) + " / "
                            + Report.micros(p99.getOrDefault("middlePage/" + db, Double.NaN)));
        }
    }
}
