package dev.parley.benchmarks.load;

import dev.parley.benchmarks.BenchModel;
import dev.parley.benchmarks.Report;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Scenario 2, token delivery: {@code streams} concurrent streamed chats whose model emits a token
 * every 50 ms (20 tokens/s) for {@code seconds}, each token carrying the wall-clock time it was
 * handed to the run engine. The lag of a token is the client's wall clock when its event is read
 * minus that time: model callback, event bus, SSE encoding, socket, client parsing. Streams start
 * spread over a ramp; the steady-state figures count only tokens emitted after the ramp.
 */
public final class TokenDelivery {
    private TokenDelivery() {}

    public static void run(ServerProcess server, String store, int streams, double seconds, double rampSeconds, Report report)
            throws Exception {
        Client client = new Client(server.port(store), Load.EXECUTOR);
        List<String> threads = client.createThreads("td-", streams);
        int tokens = (int) (seconds * 20);
        Histogram all = Load.histogram();
        Histogram steady = Load.histogram();
        AtomicLong errors = new AtomicLong();
        AtomicLong delivered = new AtomicLong();
        CountDownLatch ended = new CountDownLatch(streams);
        long cpuBefore = server.cpuNanos();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long rampNanos = (long) (rampSeconds * 1e9);
        long steadyFromMicros = BenchModel.epochMicros() + TimeUnit.NANOSECONDS.toMicros(rampNanos) + 100_000;
        for (int i = 0; i < streams; i++) {
            int slot = i;
            long due = start + rampNanos * i / streams;
            Load.EXECUTOR.execute(() -> {
                try {
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    HttpResponse<InputStream> res = client.streamChat("td-" + slot, threads.get(slot), "paced:50:" + tokens, false);
                    int seen = 0;
                    boolean done = false;
                    try (Client.EventReader events = new Client.EventReader(res.body())) {
                        Client.Event e;
                        while (res.statusCode() == 200 && (e = events.next()) != null) {
                            if (e.type().equals("token")) {
                                long now = BenchModel.epochMicros();
                                String content = Client.content(e.data());
                                long sent = Long.parseLong(content.trim());
                                long lag = Math.max(0, now - sent);
                                all.recordValue(lag);
                                if (sent >= steadyFromMicros) {
                                    steady.recordValue(lag);
                                }
                                seen++;
                            } else if (e.type().equals("done")) {
                                done = true;
                                break;
                            } else if (!e.type().equals("run_started")) {
                                break;
                            }
                        }
                    }
                    delivered.addAndGet(seen);
                    if (!done || seen != tokens) {
                        errors.incrementAndGet();
                        Load.noteError(new IllegalStateException("status " + res.statusCode() + ", " + seen + " of " + tokens
                                + " tokens, done " + done));
                    }
                } catch (Exception e) {
                    errors.incrementAndGet();
                    Load.noteError(e);
                } finally {
                    ended.countDown();
                }
            });
        }
        boolean allEnded = ended.await((long) (seconds + rampSeconds + 60), TimeUnit.SECONDS);
        long cpuAfter = server.cpuNanos();
        long unfinished = allEnded ? 0 : ended.getCount();
        String cond = streams + " streams x 20 tokens/s x " + (int) seconds + " s (" + (streams * 20) + " tokens/s), " + (store.equals("memory") ? "in-memory" : store) + " store";
        report.add("2", "token delivery lag p50 (steady)", Report.micros(steady.getValueAtPercentile(50)), null, null, cond);
        report.add("2", "token delivery lag p99 (steady)", Report.micros(steady.getValueAtPercentile(99)), "< 10 ms",
                steady.getValueAtPercentile(99) < 10_000, "max " + Report.micros(steady.getMaxValue())
                        + "; incl. ramp p99 " + Report.micros(all.getValueAtPercentile(99)));
        long errorCount = errors.get() + unfinished;
        report.add("2", "token delivery errors", errorCount + " of " + streams + " streams", "0", errorCount == 0,
                delivered.get() + " of " + ((long) streams * tokens) + " tokens delivered");
        if (cpuBefore >= 0 && cpuAfter >= 0 && delivered.get() > 0) {
            report.add("2", "server CPU per token delivered", Report.micros((cpuAfter - cpuBefore) / 1e3 / delivered.get()), null, null,
                    String.format(java.util.Locale.ROOT, "%.1f s of server CPU over the %s streams, ramp and ends included",
                            (cpuAfter - cpuBefore) / 1e9, streams));
        }
    }
}
