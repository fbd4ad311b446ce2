package dev.parley.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.benchmarks.Report;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Scenario 4, cancel latency, measured by the client on one clock:
 * <ul>
 *   <li>cancel request sent ({@code DELETE /threads/{id}/chat}) to the {@code cancelled} event read
 *       on the run's stream, with the in-process model waiting mid-answer ({@code hang:1});</li>
 *   <li>the same with {@code adapter-openai} streaming from a fake model server in this process, and
 *       cancel sent to the moment that server sees its connection closed.</li>
 * </ul>
 */
public final class CancelLatency {
    private CancelLatency() {}

    /**
     * {@code cancels} of runs on the in-process model, {@code lanes} at a time, after {@code warmup}
     * untimed ones made the same way (a server answers cancels warm: the figure is not the JIT's);
     * {@code upstreamCancels} through adapter-openai, one at a time.
     */
    public static void run(ServerProcess server, FakeOpenAi fake, int warmup, int cancels, int lanes, int upstreamCancels,
                           Report report) throws Exception {
        Client client = new Client(server.port("memory"), Load.EXECUTOR);
        Histogram toEvent = Load.histogram();
        Histogram deleteAnswered = Load.histogram();
        AtomicLong errors = new AtomicLong();
        inLanes(client, "cx-warm-", warmup, lanes, Load.histogram(), Load.histogram(), new AtomicLong());
        client.bench("/bench/stats", false); // the server's timings from here on
        inLanes(client, "cx-", cancels, lanes, toEvent, deleteAnswered, errors);
        JsonNode stats = client.bench("/bench/stats", false);
        JsonNode served = stats.get("cancel_answered_us");
        JsonNode servedToCancelled = stats.get("cancel_to_cancelled_us");
        report.add("4", "cancel -> cancelled event, p50 / p99 (in-process model)",
                Report.micros(toEvent.getValueAtPercentile(50)) + " / " + Report.micros(toEvent.getValueAtPercentile(99)),
                "p99 <= 5 ms", toEvent.getValueAtPercentile(99) <= 5_000,
                toEvent.getTotalCount() + " cancels, " + lanes + " at a time, after " + warmup + " untimed, errors " + errors.get()
                        + "; DELETE answered p50 " + Report.micros(deleteAnswered.getValueAtPercentile(50)));
        report.add("4", "server: cancel request -> answered, p50 / p99 (in-process model)",
                Report.micros(served.get("p50").asDouble()) + " / " + Report.micros(served.get("p99").asDouble()), null, null,
                served.get("count").asLong() + " DELETEs timed from the servlet layer to their answer; the rest of the client's"
                        + " figure is the load generator's HTTP client and the wire");
        report.add("4", "server: cancel request -> cancelled frame flushed, p50 / p99 (in-process model)",
                Report.micros(servedToCancelled.get("p50").asDouble()) + " / " + Report.micros(servedToCancelled.get("p99").asDouble()),
                null, null, servedToCancelled.get("count").asLong() + " cancels timed from the DELETE reaching the servlet layer to the"
                        + " flush of the stream's cancelled frame");

        if (fake == null || !server.has("openai")) {
            report.skipped("4", "cancel -> model exchange closed", "no fake model server");
            return;
        }
        Client openai = new Client(server.port("openai"), Load.EXECUTOR);
        Histogram upstreamEvent = Load.histogram();
        Histogram upstreamClosed = Load.histogram();
        AtomicLong upstreamErrors = new AtomicLong();
        for (int i = 0; i < 3; i++) {
            once(openai, "cx-openai", fake, Load.histogram(), Load.histogram(), Load.histogram(), new AtomicLong());
        }
        for (int i = 0; i < upstreamCancels; i++) {
            once(openai, "cx-openai", fake, upstreamEvent, Load.histogram(), upstreamClosed, upstreamErrors);
        }
        report.add("4", "cancel -> model HTTP exchange closed, p50 / p99 (adapter-openai)",
                Report.micros(upstreamClosed.getValueAtPercentile(50)) + " / " + Report.micros(upstreamClosed.getValueAtPercentile(99)),
                "p99 <= 10 ms", upstreamClosed.getTotalCount() > 0 && upstreamClosed.getValueAtPercentile(99) <= 10_000,
                upstreamClosed.getTotalCount() + " cancels one at a time, errors " + upstreamErrors.get()
                        + "; cancelled event p50 / p99 " + Report.micros(upstreamEvent.getValueAtPercentile(50)) + " / "
                        + Report.micros(upstreamEvent.getValueAtPercentile(99)));
    }

    /** {@code count} cancels, {@code lanes} at a time (a user of its own each). */
    private static void inLanes(Client client, String user, int count, int lanes, Histogram toEvent, Histogram deleteAnswered,
                                AtomicLong errors) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(lanes);
        for (int p = 0; p < lanes; p++) {
            int lane = p;
            Load.EXECUTOR.execute(() -> {
                try {
                    for (int i = lane; i < count; i += lanes) {
                        once(client, user + lane, null, toEvent, deleteAnswered, null, errors);
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        done.await(300, TimeUnit.SECONDS);
    }

    /** One streamed chat, cancelled after its first token. */
    private static void once(Client client, String user, FakeOpenAi fake, Histogram toEvent, Histogram deleteAnswered,
                             Histogram upstreamClosed, AtomicLong errors) {
        try {
            String thread = client.createThread(user);
            HttpResponse<InputStream> res = client.streamChat(user, thread, "hang:1", false);
            FakeOpenAi.Connection upstream = fake == null ? null : fake.nextConnection();
            try (Client.EventReader events = new Client.EventReader(res.body())) {
                Client.Event e;
                long cancelSent = 0;
                CompletableFuture<HttpResponse<String>> delete = null;
                while ((e = events.next()) != null) {
                    if (e.type().equals("token") && delete == null) {
                        long sent = System.nanoTime();
                        cancelSent = sent;
                        delete = CompletableFuture.supplyAsync(() -> {
                            try {
                                HttpResponse<String> r = client.cancel(user, thread);
                                deleteAnswered.recordValue(Load.micros(System.nanoTime() - sent));
                                return r;
                            } catch (Exception ex) {
                                throw new IllegalStateException(ex);
                            }
                        }, Load.EXECUTOR);
                    } else if (e.type().equals("cancelled")) {
                        toEvent.recordValue(Load.micros(e.receivedNanos() - cancelSent));
                        break;
                    } else if (!e.type().equals("run_started") && !e.type().equals("token")) {
                        throw new IllegalStateException("unexpected event " + e.type());
                    }
                }
                if (delete == null) {
                    throw new IllegalStateException("the stream ended before its first token");
                }
                if (delete.get(30, TimeUnit.SECONDS).statusCode() != 200) {
                    throw new IllegalStateException("cancel answered " + delete.get().statusCode());
                }
                if (upstream != null) {
                    long closed = upstream.closedAt().get(30, TimeUnit.SECONDS);
                    upstreamClosed.recordValue(Load.micros(closed - cancelSent));
                }
            }
        } catch (Exception e) {
            errors.incrementAndGet();
            Load.noteError(e);
        }
    }
}
