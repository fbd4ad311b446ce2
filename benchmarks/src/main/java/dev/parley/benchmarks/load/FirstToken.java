package dev.parley.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.benchmarks.Report;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Scenario 1, framework overhead to the first token: streamed chats with the cost-free model
 * ({@code zero:3}) at a fixed arrival rate, on each store. Two measurements of the same requests:
 * <ul>
 *   <li>server side ({@link dev.parley.benchmarks.ServerTimings}): request at the servlet layer to the
 *       first {@code token} frame flushed to the socket, which is the framework's own time;</li>
 *   <li>client side: due time of the request to the first {@code token} event read, and the same for
 *       the baseline ({@code GET /bare/sse}, a trivial handler on the same server that answers one
 *       frame); the difference of the medians estimates what Parley adds over a bare stream, with the
 *       client's own costs cancelled out.</li>
 * </ul>
 */
public final class FirstToken {
    private FirstToken() {}

    public static void run(ServerProcess server, List<String> stores, double rate, double warmSeconds, double seconds,
                           Report report) throws Exception {
        for (String store : stores) {
            if (!server.has(store)) {
                report.skipped("1", "first token, " + store, "store not available");
                continue;
            }
            Client client = new Client(server.port(store), Load.EXECUTOR);
            int slots = (int) Math.max(64, rate * Math.min(5, seconds));
            List<String> threads = client.createThreads("ft-" + store + "-", slots);
            String at = " at " + (int) rate + "/s, " + store;
            boolean goal = rate >= 200;
            Histogram ignored = Load.histogram();
            drive(client, threads, store, rate, warmSeconds, false, ignored, ignored, new AtomicLong());
            drive(client, threads, store, rate, Math.max(1, warmSeconds / 2), true, ignored, ignored, new AtomicLong());
            client.bench("/bench/stats", false);

            Histogram firstEvent = Load.histogram();
            Histogram firstToken = Load.histogram();
            AtomicLong errors = new AtomicLong();
            long late = drive(client, threads, store, rate, seconds, false, firstEvent, firstToken, errors);
            JsonNode parleyServer = client.bench("/bench/stats", false);

            Histogram baselineEvent = Load.histogram();
            AtomicLong baselineErrors = new AtomicLong();
            drive(client, threads, store, rate, Math.max(1, seconds / 2), true, baselineEvent, Load.histogram(), baselineErrors);
            JsonNode baselineServer = client.bench("/bench/stats", false);

            JsonNode token = parleyServer.get("parley_first_token_us");
            JsonNode base = baselineServer.get("baseline_first_event_us");
            boolean memory = store.equals("memory");
            String cond = (int) rate + " turns/s for " + (int) seconds + " s, " + token.get("count").asLong()
                    + " turns, errors " + (errors.get() + late);
            report.add("1", "server: request -> first token flushed, p50" + at, Report.micros(token.get("p50").asDouble()),
                    null, null, cond);
            report.add("1", "server: request -> first token flushed, p99" + at, Report.micros(token.get("p99").asDouble()),
                    goal ? (memory ? "<= 1 ms" : "<= 5 ms") : null,
                    goal ? token.get("p99").asDouble() <= (memory ? 1_000 : 5_000) : null, null);
            report.add("1", "server: baseline handler -> first frame flushed, p50 / p99" + at,
                    Report.micros(base.get("p50").asDouble()) + " / " + Report.micros(base.get("p99").asDouble()), null, null,
                    "same server, trivial SSE handler");
            double clientP50 = firstToken.getValueAtPercentile(50);
            double baseP50 = baselineEvent.getValueAtPercentile(50);
            report.add("1", "client: due -> first token event, p50 / p99" + at,
                    Report.micros(clientP50) + " / " + Report.micros(firstToken.getValueAtPercentile(99)), null, null,
                    "baseline " + Report.micros(baseP50) + " / " + Report.micros(baselineEvent.getValueAtPercentile(99))
                            + "; Parley adds " + Report.micros(Math.max(0, clientP50 - baseP50)) + " at p50"
                            + (baselineErrors.get() > 0 ? "; baseline errors " + baselineErrors.get() : ""));
        }
    }

    /** Paced streamed chats (or baseline streams); records due -> first event and due -> first token. */
    private static long drive(Client client, List<String> threads, String store, double rate, double seconds, boolean baseline,
                              Histogram firstEvent, Histogram firstToken, AtomicLong errors) {
        return Load.paced(rate, seconds, 30, (i, due) -> {
            int slot = i % threads.size();
            HttpResponse<InputStream> res = baseline ? client.baselineStream()
                    : client.streamChat("ft-" + store + "-" + slot, threads.get(slot), "zero:3", false);
            try (Client.EventReader events = new Client.EventReader(res.body())) {
                if (res.statusCode() != 200) {
                    errors.incrementAndGet();
                    Load.noteError(new IllegalStateException("status " + res.statusCode()));
                    return;
                }
                boolean first = true;
                boolean tokenSeen = false;
                Client.Event e;
                while ((e = events.next()) != null) {
                    if (first) {
                        firstEvent.recordValue(Load.micros(e.receivedNanos() - due));
                        first = false;
                    }
                    if (!tokenSeen && e.type().equals("token")) {
                        firstToken.recordValue(Load.micros(e.receivedNanos() - due));
                        tokenSeen = true;
                        if (baseline) {
                            return;
                        }
                    }
                    if (e.type().equals("done")) {
                        return;
                    }
                    if (e.type().equals("error") || e.type().equals("cancelled")) {
                        break;
                    }
                }
                errors.incrementAndGet();
            }
        }, errors);
    }
}
