package dev.parley.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.benchmarks.Report;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scenario 3, idle streams: {@code streams} streamed chats held open on a fresh server, each a run
 * whose model waits ({@code hang:0}), so the stream carries only heartbeats. Connections come from
 * several loopback source addresses (127.0.0.2, 127.0.0.3, ...). The server's heap after a full
 * collection and its RSS are read before the streams open and once they are all open; the difference
 * divided by the number of streams is the cost of one stream (socket, request, subscription and the
 * run waiting on its model: with the asynchronous model, {@code --model=async}, that run holds no thread).
 * Then, on a fresh server, as many streams with the same requests held by a bare Javalin handler
 * ({@code BareIdleStream}, {@code POST /bare/idle-sse}): the transport's share of a stream, and by difference Parley's.
 */
public final class IdleStreams {
    /** Streams being opened at once. */
    static final int OPENING = 128;

    private IdleStreams() {}

    public static void run(int streams, double holdSeconds, long heartbeatMillis, int sourceAddresses, String model, Path logs,
                           Report report) throws Exception {
        double heapPer;
        double rssPer;
        try (ServerProcess server = server(heartbeatMillis, model, logs.resolve("server-idle.log"))) {
            List<Client> clients = clients(server, sourceAddresses);
            Client admin = new Client(server.port("memory"), Load.EXECUTOR);
            // warm the route once so the baseline includes the loaded classes
            warm(admin);
            JsonNode before = admin.bench("/bench/gc", true);
            Path histogramBefore = logs.resolve("idle-class-histogram-before.txt");
            classHistogram(server.pid(), histogramBefore);

            Streams held = open(streams, clients, (client, user) -> client.streamChat(user, null, "hang:0", true));
            JsonNode open = admin.bench("/bench/gc", true);
            Path histogramOpen = logs.resolve("idle-class-histogram.txt");
            classHistogram(server.pid(), histogramOpen);
            perStream(histogramBefore, histogramOpen, streams, logs.resolve("idle-class-histogram-per-stream.txt"));
            long heartbeatsAtOpen = held.heartbeats.get();
            Load.sleep(holdSeconds);
            JsonNode after = admin.bench("/bench/gc", true);
            long failed = held.errors.get() + held.closedEarly.get();
            long received = held.heartbeats.get() - heartbeatsAtOpen;
            held.holding.set(false);

            heapPer = grewPerStream(before, open, "heap_after_gc", streams);
            rssPer = grewPerStream(before, open, "rss", streams);
            double heapPerHeld = grewPerStream(before, after, "heap_after_gc", streams);
            String cond = streams + " streams from " + sourceAddresses + " source addresses, opened in "
                    + String.format(java.util.Locale.ROOT, "%.1f s", held.openSeconds) + ", held " + (int) holdSeconds
                    + " s, heartbeat every " + heartbeatMillis + " ms";
            report.add("3", "idle streams held without error", (streams - failed) + " of " + streams,
                    "all", failed == 0, cond + "; " + received + " heartbeats received while held");
            report.add("3", "heap per idle stream (after full GC)", Report.kib(heapPer), "<= 8 KiB", heapPer <= 8 * 1024,
                    "after the hold: " + Report.kib(heapPerHeld));
            report.add("3", "RSS per idle stream", Report.kib(rssPer), null, null,
                    "server RSS " + Report.mib(before.get("rss").asDouble()) + " -> " + Report.mib(open.get("rss").asDouble()));
        }
        bare(streams, heartbeatMillis, sourceAddresses, model, logs, heapPer, rssPer, report);
    }

    /**
     * The baseline: as many streams, with the same requests, held by a bare Javalin handler ({@code POST
     * /bare/idle-sse}: no run, no subscription) on a fresh server of the same kind. What one of them holds is
     * the transport's share of an idle stream; the rest of {@code parleyHeap} is Parley's.
     */
    private static void bare(int streams, long heartbeatMillis, int sourceAddresses, String model, Path logs, double parleyHeap,
                             double parleyRss, Report report) throws Exception {
        try (ServerProcess server = server(heartbeatMillis, model, logs.resolve("server-idle-bare.log"))) {
            List<Client> clients = clients(server, sourceAddresses);
            Client admin = new Client(server.port("memory"), Load.EXECUTOR);
            Streams warm = open(1, List.of(admin), (client, user) -> client.bareIdleStream(user, "hang:0"));
            warm.holding.set(false);
            JsonNode before = admin.bench("/bench/gc", true);
            Path histogramBefore = logs.resolve("idle-class-histogram-bare-before.txt");
            classHistogram(server.pid(), histogramBefore);
            Streams held = open(streams, clients, (client, user) -> client.bareIdleStream(user, "hang:0"));
            JsonNode open = admin.bench("/bench/gc", true);
            Path histogramOpen = logs.resolve("idle-class-histogram-bare.txt");
            classHistogram(server.pid(), histogramOpen);
            perStream(histogramBefore, histogramOpen, streams, logs.resolve("idle-class-histogram-bare-per-stream.txt"));
            held.holding.set(false);
            long failed = held.errors.get() + held.closedEarly.get();
            double heapPer = grewPerStream(before, open, "heap_after_gc", streams);
            double rssPer = grewPerStream(before, open, "rss", streams);
            report.add("3", "heap per idle stream of a bare Javalin handler (the transport's share)", Report.kib(heapPer), null, null,
                    (streams - failed) + " of " + streams + " streams held, the same requests, on a fresh server; RSS per stream "
                            + Report.kib(rssPer));
            report.add("3", "Parley's share of an idle stream's heap", Report.kib(parleyHeap - heapPer), null, null,
                    "heap per idle stream minus the bare handler's; RSS " + Report.kib(parleyRss - rssPer));
        }
    }

    /** What {@code field} of {@code /bench/gc} grew by from {@code before} to {@code after}, per stream. */
    private static double grewPerStream(JsonNode before, JsonNode after, String field, int streams) {
        return (after.get(field).asDouble() - before.get(field).asDouble()) / streams;
    }

    private static ServerProcess server(long heartbeatMillis, String model, Path log) throws IOException {
        List<String> jvm = List.of("-Xmx4g", "-XX:+UseG1GC");
        return ServerProcess.start(jvm, List.of("--stores=memory", "--heartbeat-ms=" + heartbeatMillis, "--model=" + model), log);
    }

    private static List<Client> clients(ServerProcess server, int sourceAddresses) throws IOException {
        List<Client> clients = new ArrayList<>();
        for (int a = 0; a < sourceAddresses; a++) {
            clients.add(new Client(server.port("memory"), InetAddress.getByName("127.0.0." + (2 + a)), Load.EXECUTOR));
        }
        return clients;
    }

    /** Opens one stream: its response, whose events the caller reads. */
    @FunctionalInterface
    private interface Opener {
        HttpResponse<InputStream> open(Client client, String user) throws Exception;
    }

    /** Streams held open, read on the load generator's threads until {@link #holding} is cleared. */
    private static final class Streams {
        final AtomicBoolean holding = new AtomicBoolean(true);
        final AtomicLong errors = new AtomicLong();
        final AtomicLong heartbeats = new AtomicLong();
        final AtomicLong closedEarly = new AtomicLong();
        double openSeconds;
    }

    /** Opens {@code streams} streams ({@link #OPENING} at a time), returning once each has started (or failed). */
    private static Streams open(int streams, List<Client> clients, Opener opener) throws InterruptedException {
        Streams held = new Streams();
        CountDownLatch opened = new CountDownLatch(streams);
        Semaphore opening = new Semaphore(OPENING);
        long openStart = System.nanoTime();
        for (int i = 0; i < streams; i++) {
            Client client = clients.get(i % clients.size());
            String user = "idle-" + (i % 500);
            opening.acquire();
            Load.EXECUTOR.execute(() -> {
                boolean released = false;
                try {
                    HttpResponse<InputStream> res = opener.open(client, user);
                    if (res.statusCode() != 200) {
                        held.errors.incrementAndGet();
                        Load.noteError(new IllegalStateException("status " + res.statusCode()));
                        res.body().close();
                        return;
                    }
                    try (Client.EventReader events = new Client.EventReader(res.body())) {
                        Client.Event e;
                        while ((e = events.next()) != null) {
                            if (e.type().equals("run_started") && !released) {
                                released = true;
                                opening.release();
                                opened.countDown();
                            } else if (e.type().equals("heartbeat")) {
                                held.heartbeats.incrementAndGet();
                            } else {
                                break;
                            }
                        }
                    }
                    if (held.holding.get()) {
                        held.closedEarly.incrementAndGet();
                    }
                } catch (Exception e) {
                    if (held.holding.get()) {
                        held.errors.incrementAndGet();
                        Load.noteError(e);
                    }
                } finally {
                    if (!released) {
                        opening.release();
                        opened.countDown();
                    }
                }
            });
        }
        opened.await(300, TimeUnit.SECONDS);
        held.openSeconds = (System.nanoTime() - openStart) / 1e9;
        return held;
    }

    /** What the server's heap holds (the top of {@code jcmd GC.class_histogram}), for the record. */
    private static void classHistogram(long pid, Path file) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.class_histogram")
                    .redirectErrorStream(true).redirectOutput(file.toFile()).start();
            p.waitFor(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            Load.noteError(e);
        }
    }

    /**
     * What one stream adds, class by class: the difference of the two histograms divided by the number of
     * streams, the largest first (instances and bytes per stream), written to {@code out}.
     */
    static void perStream(Path before, Path open, int streams, Path out) {
        try {
            Map<String, long[]> was = histogram(before);
            List<Map.Entry<String, long[]>> grew = new ArrayList<>();
            histogram(open).forEach((name, now) -> {
                long[] then = was.getOrDefault(name, new long[2]);
                grew.add(Map.entry(name, new long[] {now[0] - then[0], now[1] - then[1]}));
            });
            grew.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
            StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%12s %12s  class (per stream, %d streams)%n",
                    "instances", "bytes", streams));
            for (Map.Entry<String, long[]> e : grew.subList(0, Math.min(80, grew.size()))) {
                text.append(String.format(Locale.ROOT, "%12.2f %12.1f  %s%n", (double) e.getValue()[0] / streams,
                        (double) e.getValue()[1] / streams, e.getKey()));
            }
            Files.writeString(out, text);
        } catch (Exception e) {
            Load.noteError(e);
        }
    }

    /** A {@code GC.class_histogram}: instances and bytes by class. */
    private static Map<String, long[]> histogram(Path file) throws IOException {
        Map<String, long[]> byClass = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)").matcher(Files.readString(file));
        while (m.find()) {
            byClass.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        return byClass;
    }

    private static void warm(Client admin) throws Exception {
        String thread = admin.createThread("idle-warm");
        HttpResponse<InputStream> res = admin.streamChat("idle-warm", thread, "zero:3", false);
        try (Client.EventReader events = new Client.EventReader(res.body())) {
            while (events.next() != null) {
                // read to the end
            }
        }
    }
}
