package dev.parley.benchmarks;

import dev.parley.benchmarks.load.Client;
import dev.parley.benchmarks.load.Limit;
import dev.parley.benchmarks.load.Load;
import dev.parley.benchmarks.load.ServerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Profiles the hot path once: the bench server under JFR (execution samples, the {@code profile}
 * settings) while closed-loop callers make non-streaming turns on the in-memory store (so the
 * samples are the framework's, not a database's), then a summary of {@code jdk.ExecutionSample}:
 * the hottest methods (top frames), the hottest Parley methods (first {@code dev.parley} frame of
 * each sample) and the share of each library.
 */
public final class Profile {
    private Profile() {}

    /** Records {@code seconds} of load; writes {@code profile.jfr} and {@code profile.txt} to {@code out}; returns turns/s. */
    public static double record(Path out, double seconds, int callers) throws Exception {
        return record(out, seconds, callers, "memory");
    }

    /** Like {@link #record(Path, double, int)}, with the server on {@code store} (memory, h2 or postgres). */
    public static double record(Path out, double seconds, int callers, String store) throws Exception {
        Files.createDirectories(out);
        Path jfr = out.resolve("profile.jfr").toAbsolutePath();
        Files.deleteIfExists(jfr);
        List<String> jvm = List.of("-Xmx2g", "-XX:+FlightRecorder",
                "-XX:StartFlightRecording=filename=" + jfr + ",settings=profile,dumponexit=true");
        double perSecond;
        try (ServerProcess server = ServerProcess.start(jvm, List.of("--stores=" + store), out.resolve("server-profile.log"))) {
            Client client = new Client(server.port(store), Load.EXECUTOR);
            String prefix = "prof-" + store + "-";
            List<String> threads = client.createThreads(prefix, callers);
            Limit.round(client, threads, prefix, false, callers, Math.min(5, seconds / 3));
            Limit.Round round = Limit.round(client, threads, prefix, false, callers, seconds);
            perSecond = round.perSecond();
            System.out.printf(Locale.ROOT, "  profiled %.0f turns/s (p50 %s), %d errors%n", perSecond,
                    Report.micros(round.latency().getValueAtPercentile(50)), round.errors());
        }
        String summary = summarize(jfr, 25);
        Files.writeString(out.resolve("profile.txt"), summary);
        System.out.println(summary);
        return perSecond;
    }

    /** The summary of a recording's execution samples. */
    public static String summarize(Path jfr, int top) throws IOException {
        Map<String, Integer> topFrames = new HashMap<>();
        Map<String, Integer> parleyFrames = new HashMap<>();
        Map<String, Integer> libraries = new HashMap<>();
        Map<String, Integer> paths = new HashMap<>();
        int samples = 0;
        int pinned = 0;
        double longestPinMillis = 0;
        Map<String, Integer> pinnedAt = new HashMap<>();
        try (RecordingFile file = new RecordingFile(jfr)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                if (event.getEventType().getName().equals("jdk.VirtualThreadPinned")) {
                    // recorded only over the threshold of the settings (20 ms in JDK's "profile")
                    pinned++;
                    longestPinMillis = Math.max(longestPinMillis, event.getDuration().toNanos() / 1e6);
                    RecordedStackTrace stack = event.getStackTrace();
                    String where = stack == null ? "?" : stack.getFrames().stream()
                            .filter(f -> f.getMethod().getType().getName().startsWith("dev.parley."))
                            .findFirst().map(Profile::name).orElse(stack.getFrames().isEmpty() ? "?" : name(stack.getFrames().get(0)));
                    // JDK 24+ says why (e.g. waiting for another thread's class initialization)
                    String reason = event.hasField("pinnedReason") ? event.getString("pinnedReason") : null;
                    pinnedAt.merge(reason == null ? where : where + " (" + reason.replaceAll(" of [\\w.$]+", "") + ")", 1,
                            Integer::sum);
                    continue;
                }
                if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
                    continue;
                }
                RecordedStackTrace stack = event.getStackTrace();
                if (stack == null || stack.getFrames().isEmpty()) {
                    continue;
                }
                samples++;
                List<RecordedFrame> frames = stack.getFrames();
                String topMethod = name(frames.get(0));
                topFrames.merge(topMethod, 1, Integer::sum);
                libraries.merge(library(frames.get(0).getMethod().getType().getName()), 1, Integer::sum);
                StringBuilder path = new StringBuilder(frameName(frames.get(0)));
                for (int i = 1; i < Math.min(4, frames.size()); i++) {
                    path.append(" <- ").append(frameName(frames.get(i)));
                }
                paths.merge(path.toString(), 1, Integer::sum);
                for (RecordedFrame f : frames) {
                    String type = f.getMethod().getType().getName();
                    if (type.startsWith("dev.parley.") && !type.startsWith("dev.parley.benchmarks.")) {
                        parleyFrames.merge(name(f), 1, Integer::sum);
                        break;
                    }
                }
            }
        }
        StringBuilder s = new StringBuilder();
        s.append("jdk.ExecutionSample: ").append(samples).append(" samples\n");
        s.append(String.format(Locale.ROOT, "jdk.VirtualThreadPinned (20 ms and longer): %d events, longest %.1f ms%n%n",
                pinned, longestPinMillis));
        if (pinned > 0) {
            s.append(table("where virtual threads were pinned (first dev.parley frame)", pinnedAt, pinned, top));
        }
        s.append(table("share of samples by library of the top frame", libraries, samples, top));
        s.append(table("hottest methods (top frame)", topFrames, samples, top));
        s.append(table("hottest call paths (top frame <- its callers)", paths, samples, top));
        s.append(table("hottest Parley methods (first dev.parley frame on the stack, inclusive)", parleyFrames, samples, top));
        return s.toString();
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static String frameName(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
    }

    private static String library(String type) {
        String[][] groups = {
            {"dev.parley.", "parley"}, {"org.eclipse.jetty.", "jetty"}, {"io.javalin.", "javalin"},
            {"com.fasterxml.jackson.", "jackson"}, {"com.nimbusds.", "nimbus-jose-jwt"}, {"org.slf4j.", "slf4j"},
            {"kotlin.", "kotlin"}, {"java.util.concurrent.", "java.util.concurrent"}, {"java.util.regex.", "java.util.regex"},
            {"java.lang.invoke.", "java.lang.invoke"}, {"java.time.", "java.time"}, {"sun.nio.", "sun.nio"}, {"java.", "java (other)"},
            {"jdk.internal.", "jdk.internal"}, {"sun.", "sun (other)"}};
        for (String[] g : groups) {
            if (type.startsWith(g[0])) {
                return g[1];
            }
        }
        return "other";
    }

    private static String table(String title, Map<String, Integer> counts, int total, int top) {
        StringBuilder s = new StringBuilder(title).append(":\n");
        Map<String, Integer> sorted = new LinkedHashMap<>();
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        sorted.forEach((k, v) -> s.append(String.format(Locale.ROOT, "  %5.1f%%  %6d  %s%n", 100.0 * v / Math.max(1, total), v, k)));
        return s.append('\n').toString();
    }
}
