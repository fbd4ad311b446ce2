package dev.parley.benchmarks.load;

import dev.parley.benchmarks.Databases;
import dev.parley.benchmarks.Report;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.RunObserver;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 10, a burst of runs against one server: N runs sent at once (100 users, new threads) to
 * one chat service over the database, with admission off (no bound on the runs executing at once)
 * and on (at most M executing; the rest wait queued in the database), side by side in one process.
 * The model stands in for an upstream one: its first token after 100 ms, then 20 tokens 10 ms apart.
 * Figures per setting: time to first token of the admitted runs (from the start of their execution,
 * what a run that got a slot experiences), time from send to first token (what a client sees,
 * waiting included), the burst's duration, the peak heap sampled during it, and errors.
 */
public final class AdmissionBurst {
    private static final int USERS = 100;
    private static final Duration WAIT = Duration.ofMinutes(10);

    private AdmissionBurst() {
    }

    /** A model that answers after an upstream's delay: first token after 100 ms, then 20 more 10 ms apart. */
    private static final class UpstreamModel implements ChatModel {
        @Override
        public String defaultModel() {
            return "bench-upstream";
        }

        @Override
        public ModelResponse complete(dev.parley.chat.port.out.ModelRequest request, dev.parley.chat.port.out.ModelStreamListener listener,
                                      dev.parley.chat.port.out.Cancellation cancellation) {
            StringBuilder text = new StringBuilder();
            try {
                Thread.sleep(100);
                for (int i = 0; i < 21; i++) {
                    if (i > 0) {
                        Thread.sleep(10);
                    }
                    String token = i == 0 ? "t0" : " t" + i;
                    listener.onToken(token);
                    text.append(token);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new dev.parley.chat.model.RunCancelledException();
            }
            return new ModelResponse(text.toString(), List.of(), Usage.reported(20, 21), "stop", defaultModel());
        }
    }

    /** Time to first token since each run began executing, and since it was sent. */
    private static final class Timings implements RunObserver {
        final Map<RunId, Long> sentAt = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<Long> sinceStart = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Long> sinceSend = new ConcurrentLinkedQueue<>();
        final Map<RunId, Long> early = new ConcurrentHashMap<>();

        @Override
        public void firstToken(RunId runId, String agentId, Duration sinceRunStart) {
            long now = System.nanoTime();
            sinceStart.add(sinceRunStart.toNanos());
            Long sent = sentAt.get(runId);
            if (sent != null) {
                sinceSend.add(now - sent);
            } else {
                early.put(runId, now); // the token came before the sender recorded the send
            }
        }

        void sent(RunId runId, long at) {
            sentAt.put(runId, at);
            Long token = early.remove(runId);
            if (token != null) {
                sinceSend.add(token - at);
            }
        }
    }

    /** Runs the burst with each of {@code maxExecuting} (0 for admission off) and adds the figures to {@code report}. */
    public static void run(Databases.Kind kind, int runs, int[] maxExecuting, Report report) throws Exception {
        String label = kind.name().toLowerCase(Locale.ROOT);
        for (int max : maxExecuting) {
            try (Databases.Database db = Databases.open(kind, 10)) {
                Timings timings = new Timings();
                try (ChatService server = ChatService.builder().store(db.chatStore()).model(new UpstreamModel()).observer(timings)
                        .agents(List.of(Agent.builder("bench").build())).maxExecutingRuns(max == 0 ? Integer.MAX_VALUE : max)
                        .build()) {
                    // warm the paths up, unmeasured
                    burst(server, new Timings(), 20);
                    timings.sinceStart.clear();
                    Result result = burst(server, timings, runs);
                    String setting = max == 0 ? "admission off" : "admission on, at most " + max + " executing";
                    report.add("10", "burst of " + runs + ": first token of admitted runs p50 / p99, " + setting + ", " + label,
                            millis(percentile(timings.sinceStart, 50)) + " / " + millis(percentile(timings.sinceStart, 99)), null, null,
                            "from the start of each run's execution; the model's own first token comes after 100 ms");
                    report.add("10", "burst of " + runs + ": send -> first token p50 / p99, " + setting + ", " + label,
                            millis(percentile(timings.sinceSend, 50)) + " / " + millis(percentile(timings.sinceSend, 99)), null, null,
                            "what a client sees, waiting in the queue included");
                    report.add("10", "burst of " + runs + ": all ended after / peak heap / errors, " + setting + ", " + label,
                            String.format(Locale.ROOT, "%.1f s / %.0f MiB / %d", result.seconds, result.peakHeap / 1048576.0,
                                    result.errors), null, null,
                            result.completed + " completed; peak heap sampled every 20 ms during the burst (not after GC); errors: "
                                    + "sends refused and runs that did not complete");
                }
            }
        }
    }

    private record Result(double seconds, long peakHeap, int errors, int completed) {}

    private static Result burst(ChatService server, Timings timings, int runs) throws Exception {
        AtomicLong peak = new AtomicLong();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-sampler");
        sampler.setDaemon(true);
        System.gc();
        sampler.start();
        long started = System.nanoTime();
        ExecutorService senders = Executors.newFixedThreadPool(64);
        try {
            List<Future<SendReceipt>> sends = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                String user = "burst-" + (i % USERS);
                sends.add(senders.submit(() -> {
                    long at = System.nanoTime();
                    SendReceipt sent = server.send(SendMessageCommand.newThread(user, "hello").withAgent("bench"));
                    timings.sent(sent.run().id(), at);
                    return sent;
                }));
            }
            List<Future<Boolean>> ends = new ArrayList<>();
            for (Future<SendReceipt> f : sends) {
                SendReceipt sent;
                try {
                    sent = f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    errors.incrementAndGet();
                    continue;
                }
                ends.add(senders.submit(() -> {
                    RunOutcome outcome = server.await(sent.thread().ownerId(), sent.run().id(), WAIT);
                    return outcome.run().status() == RunStatus.COMPLETED;
                }));
            }
            for (Future<Boolean> end : ends) {
                if (end.get()) {
                    completed.incrementAndGet();
                } else {
                    errors.incrementAndGet();
                }
            }
        } finally {
            senders.shutdownNow();
            sampler.interrupt();
        }
        return new Result((System.nanoTime() - started) / 1e9, peak.get(), errors.get(), completed.get());
    }

    private static String millis(double nanos) {
        return String.format(Locale.ROOT, "%.0f ms", nanos / 1e6);
    }

    private static double percentile(java.util.Collection<Long> values, double p) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
