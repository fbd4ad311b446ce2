package dev.parley.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.benchmarks.Report;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Scenario 12, the OpenAI-compatible facade against Parley's own route, in the same run on the same
 * server (in-memory store, cost-free model):
 * <ul>
 *   <li>first token: streamed turns at a fixed arrival rate, alternating between
 *       {@code POST /api/v1/threads/{id}/chat} (first {@code token} event) and
 *       {@code POST /v1/responses} (first {@code response.output_text.delta}), each from its due time;</li>
 *   <li>tokens/s of one stream: one run of N tokens emitted at once, read through each route in
 *       turn ({@code /api/v1}, {@code /v1/responses}, {@code /v1/chat/completions}), from its first text
 *       event to its terminal one; the median of a few rounds. Beside it, the server process's CPU over
 *       those rounds per token, which the client's reading on the same cores does not blur.</li>
 * </ul>
 */
public final class CompatStreams {
    private static final String AGENT = "assistant";

    private CompatStreams() {}

    public static void run(ServerProcess server, double rate, double warmSeconds, double seconds, int tokens, int rounds,
                           Report report) throws Exception {
        Client client = new Client(server.port("memory"), Load.EXECUTOR);
        int slots = (int) Math.max(64, rate * Math.min(5, seconds));
        List<String> threads = client.createThreads("oc-", slots);
        drive(client, threads, rate, warmSeconds, Load.histogram(), Load.histogram(), new AtomicLong());

        Histogram api = Load.histogram();
        Histogram compat = Load.histogram();
        AtomicLong errors = new AtomicLong();
        client.bench("/bench/stats", false); // the server's timings from here on
        long late = drive(client, threads, rate, seconds, api, compat, errors);
        JsonNode stats = client.bench("/bench/stats", false);
        JsonNode servedApi = stats.get("parley_first_token_us");
        JsonNode servedCompat = stats.get("compat_first_token_us");
        double apiP50 = api.getValueAtPercentile(50);
        double compatP50 = compat.getValueAtPercentile(50);
        double ratio = compatP50 / Math.max(1, apiP50);
        String cond = (int) rate + " turns/s for " + (int) seconds + " s, alternating, " + (api.getTotalCount() + compat.getTotalCount())
                + " turns, errors " + (errors.get() + late);
        report.add("12", "client: due -> first token, /api/v1 chat, p50 / p99", Report.micros(apiP50) + " / "
                + Report.micros(api.getValueAtPercentile(99)), null, null, cond);
        report.add("12", "client: due -> first token, /v1/responses, p50 / p99", Report.micros(compatP50) + " / "
                + Report.micros(compat.getValueAtPercentile(99)), null, null, "same run, same server, memory store");
        report.add("12", "first token p50, /v1/responses over /api/v1", Report.ratio(ratio), "<= 1.10x", ratio <= 1.10, null);
        report.add("12", "server: request -> first token flushed, p50 / p99, /api/v1 chat and /v1/responses",
                Report.micros(servedApi.get("p50").asDouble()) + " / " + Report.micros(servedApi.get("p99").asDouble()) + " and "
                        + Report.micros(servedCompat.get("p50").asDouble()) + " / " + Report.micros(servedCompat.get("p99").asDouble()),
                null, null, "the same turns on the server's clock (" + servedApi.get("count").asLong() + " and "
                        + servedCompat.get("count").asLong() + "); p50 ratio "
                        + Report.ratio(servedCompat.get("p50").asDouble() / Math.max(1, servedApi.get("p50").asDouble())));

        List<Double> apiRates = new ArrayList<>();
        List<Double> compatRates = new ArrayList<>();
        List<Double> completionRates = new ArrayList<>();
        String thread = client.createThread("oc-one");
        long[] cpu = new long[Route.values().length];
        for (int round = 0; round < rounds + 1; round++) {
            long before = server.cpuNanos();
            double a = oneStream(client, thread, tokens, Route.API);
            long afterApi = server.cpuNanos();
            double c = oneStream(client, thread, tokens, Route.RESPONSES);
            long afterCompat = server.cpuNanos();
            double cc = oneStream(client, thread, tokens, Route.CHAT_COMPLETIONS);
            long afterCompletions = server.cpuNanos();
            if (round > 0) { // the first round warms the paths up
                apiRates.add(a);
                compatRates.add(c);
                completionRates.add(cc);
                cpu[Route.API.ordinal()] += afterApi - before;
                cpu[Route.RESPONSES.ordinal()] += afterCompat - afterApi;
                cpu[Route.CHAT_COMPLETIONS.ordinal()] += afterCompletions - afterCompat;
            }
        }
        double apiRate = median(apiRates);
        double compatRate = median(compatRates);
        double completionRate = median(completionRates);
        report.add("12", "one stream of " + tokens + " tokens, tokens/s, /api/v1 chat", Report.num(apiRate, "tokens/s"), null, null,
                "median of " + rounds + " rounds");
        report.add("12", "one stream of " + tokens + " tokens, tokens/s, /v1/responses", Report.num(compatRate, "tokens/s"), null, null,
                Report.ratio(compatRate / apiRate) + " of /api/v1");
        report.add("12", "one stream of " + tokens + " tokens, tokens/s, /v1/chat/completions", Report.num(completionRate, "tokens/s"),
                null, null, Report.ratio(completionRate / apiRate) + " of /api/v1");
        if (server.cpuNanos() >= 0) {
            double perToken = 1e3 * rounds * tokens;
            double apiCpu = cpu[Route.API.ordinal()] / perToken;
            double responsesCpu = cpu[Route.RESPONSES.ordinal()] / perToken;
            double completionsCpu = cpu[Route.CHAT_COMPLETIONS.ordinal()] / perToken;
            report.add("12", "server CPU per token of one stream, /api/v1 chat, /v1/responses, /v1/chat/completions",
                    String.format(java.util.Locale.ROOT, "%.2f µs, %.2f µs, %.2f µs", apiCpu, responsesCpu, completionsCpu), null, null,
                    "the server process's CPU over the same " + rounds + " rounds (run, event log and frames), over its tokens; "
                            + Report.ratio(responsesCpu / apiCpu) + " and " + Report.ratio(completionsCpu / apiCpu) + " of /api/v1");
        }
    }

    /** Paced streamed turns, even ones through /api/v1 and odd ones through /v1; records due -> first token. */
    private static long drive(Client client, List<String> threads, double rate, double seconds, Histogram api, Histogram compat,
                              AtomicLong errors) {
        return Load.paced(rate, seconds, 30, (i, due) -> {
            int slot = i % threads.size();
            boolean viaCompat = i % 2 == 1;
            HttpResponse<InputStream> res = viaCompat ? client.streamResponse("oc-" + slot, threads.get(slot), AGENT, "zero:3")
                    : client.streamChat("oc-" + slot, threads.get(slot), "zero:3", false);
            String tokenType = viaCompat ? "response.output_text.delta" : "token";
            String endType = viaCompat ? "response.completed" : "done";
            try (Client.EventReader events = new Client.EventReader(res.body())) {
                if (res.statusCode() != 200) {
                    errors.incrementAndGet();
                    Load.noteError(new IllegalStateException("status " + res.statusCode()));
                    return;
                }
                boolean tokenSeen = false;
                Client.Event e;
                while ((e = events.next()) != null) {
                    if (!tokenSeen && e.type().equals(tokenType)) {
                        (viaCompat ? compat : api).recordValue(Load.micros(e.receivedNanos() - due));
                        tokenSeen = true;
                    }
                    if (e.type().equals(endType)) {
                        return;
                    }
                }
                errors.incrementAndGet();
            }
        }, errors);
    }

    /** The routes one stream is read through. */
    private enum Route { API, RESPONSES, CHAT_COMPLETIONS }

    /** Text events per second of one run of {@code tokens} tokens, from its first text event to its terminal one. */
    private static double oneStream(Client client, String thread, int tokens, Route route) throws Exception {
        String input = "zero:" + tokens;
        HttpResponse<InputStream> res = switch (route) {
            case API -> client.streamChat("oc-one", thread, input, false);
            case RESPONSES -> client.streamResponse("oc-one", thread, AGENT, input);
            case CHAT_COMPLETIONS -> client.streamChatCompletion("oc-one", AGENT, input);
        };
        long first = 0;
        long seen = 0;
        try (Client.EventReader events = new Client.EventReader(res.body())) {
            if (res.statusCode() != 200) {
                throw new IllegalStateException("status " + res.statusCode());
            }
            Client.Event e;
            while ((e = events.next()) != null) {
                boolean text = switch (route) {
                    case API -> e.type().equals("token");
                    case RESPONSES -> e.type().equals("response.output_text.delta");
                    case CHAT_COMPLETIONS -> e.data() != null && e.data().contains("\"content\":\"");
                };
                boolean end = switch (route) {
                    case API -> e.type().equals("done");
                    case RESPONSES -> e.type().equals("response.completed");
                    case CHAT_COMPLETIONS -> "[DONE]".equals(e.data());
                };
                if (text) {
                    if (seen++ == 0) {
                        first = e.receivedNanos();
                    }
                } else if (end) {
                    if (seen != tokens) {
                        throw new IllegalStateException(seen + " of " + tokens + " tokens");
                    }
                    return (seen - 1) / ((e.receivedNanos() - first) / 1e9);
                }
            }
        }
        throw new IllegalStateException("the stream ended early");
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
