package dev.parley.benchmarks.load;

import dev.parley.benchmarks.Report;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Scenario 7, the limit: Parley's non-streaming chat route beside {@link dev.parley.benchmarks.BareChat}
 * (a bare Javalin handler writing the same rows with plain JDBC) on the same server, database and
 * pool, in alternating rounds of a closed loop of {@code clients} concurrent callers (each on a
 * chat thread of its own, a new one every 50 turns). The ratio is of the median round throughputs.
 */
public final class Limit {
    /** Each caller starts a new chat thread every this many turns, as users do (on both sides alike). */
    static final int TURNS_PER_THREAD = 50;

    private Limit() {}

    public static void run(ServerProcess server, List<String> stores, int clients, int rounds, double warmSeconds,
                           double seconds, Report report) throws Exception {
        for (String store : stores) {
            if (!server.has(store)) {
                report.skipped("7", "Parley / bare JDBC, " + store, "store not available");
                continue;
            }
            Client client = new Client(server.port(store), Load.EXECUTOR);
            List<String> parleyThreads = client.createThreads("lim-" + store + "-", clients);
            List<String> bareThreads = client.createThreads("lim-" + store + "-", clients);
            round(client, parleyThreads, "lim-" + store + "-", false, clients, warmSeconds);
            round(client, bareThreads, "lim-" + store + "-", true, clients, warmSeconds);
            List<Double> parley = new ArrayList<>();
            List<Double> bare = new ArrayList<>();
            Histogram parleyLatency = Load.histogram();
            Histogram bareLatency = Load.histogram();
            long errors = 0;
            for (int r = 0; r < rounds; r++) {
                Round p = round(client, parleyThreads, "lim-" + store + "-", false, clients, seconds);
                Round b = round(client, bareThreads, "lim-" + store + "-", true, clients, seconds);
                parley.add(p.perSecond);
                bare.add(b.perSecond);
                parleyLatency.add(p.latency);
                bareLatency.add(b.latency);
                errors += p.errors + b.errors;
            }
            double mp = median(parley);
            double mb = median(bare);
            String cond = clients + " concurrent callers, " + rounds + " alternating rounds of " + (int) seconds + " s, errors " + errors;
            report.add("7", "Parley sync chat turns/s, " + store, Report.num(mp, "/s"), null, null,
                    "p50 latency " + Report.micros(parleyLatency.getValueAtPercentile(50)) + "; " + cond);
            report.add("7", "bare JDBC handler turns/s, " + store, Report.num(mb, "/s"), null, null,
                    "p50 latency " + Report.micros(bareLatency.getValueAtPercentile(50)));
            // a side that failed requests measured something else: no ratio is claimed then
            boolean valid = errors == 0 && mb > 0;
            report.add("7", "Parley / bare, " + store, valid ? Report.ratio(mp / mb) : "void", ">= 0.85", valid && mp / mb >= 0.85,
                    valid ? null : "requests failed (" + errors + "): see the load errors above");
        }
    }

    /** What one round of the closed loop did. */
    public record Round(double perSecond, Histogram latency, long errors) {}

    /** One round: {@code clients} callers, each on its thread of {@code threads}, for {@code seconds}. */
    public static Round round(Client client, List<String> threads, String userPrefix, boolean bare, int clients, double seconds)
            throws InterruptedException {
        Histogram latency = Load.histogram();
        AtomicLong completed = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        CountDownLatch done = new CountDownLatch(clients);
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        for (int c = 0; c < clients; c++) {
            String user = userPrefix + c;
            String first = threads.get(c);
            Load.EXECUTOR.execute(() -> {
                String thread = first;
                int turns = 0;
                try {
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        try {
                            if (++turns % TURNS_PER_THREAD == 0) {
                                thread = client.createThread(user);
                            }
                            HttpResponse<String> res = client.syncChat(user, thread, "zero:3", bare);
                            if (res.statusCode() == 200) {
                                long t1 = System.nanoTime();
                                latency.recordValue(Load.micros(t1 - t0));
                                if (t1 <= end) {
                                    completed.incrementAndGet();
                                }
                            } else {
                                errors.incrementAndGet();
                                Load.noteError(new IllegalStateException("status " + res.statusCode() + ": " + res.body()));
                            }
                        } catch (Exception e) {
                            errors.incrementAndGet();
                            Load.noteError(e);
                        }
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        done.await((long) seconds + 120, TimeUnit.SECONDS);
        return new Round(completed.get() / seconds, latency, errors.get());
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n == 0 ? 0 : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
