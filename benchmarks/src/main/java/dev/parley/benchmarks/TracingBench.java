package dev.parley.benchmarks;

import dev.parley.adapter.otel.OtelRunTracer;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.RunTracer;
import dev.parley.chat.port.out.TraceSpan;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 11: what tracing costs the core. The same chat service (in-memory store by default), with no tracer and with
 * the OpenTelemetry tracer (every span recorded, batched and handed to an exporter that drops
 * them), measured side by side in alternating rounds: first-token latency (send to the first
 * {@code token} event, one turn at a time) and turns per second (8 threads, whole turns). Each turn
 * of the traced side also opens the request span an HTTP transport would, around its send.
 *
 * <pre>java -jar benchmarks.jar tracing [--store=memory|h2|postgres] [--rounds=N] [--seconds=S] [--samples=N]</pre>
 */
public final class TracingBench {
    private static final String AGENT = "bench";
    private static final int THREADS = 8;
    private static final int TURNS_PER_THREAD = 50;

    private TracingBench() {
    }

    /** The figures of one side: first-token medians (µs) and turns/s of each round. */
    record Side(String name, List<Double> firstTokenP50, List<Double> firstTokenP90, List<Double> turnsPerSecond, AtomicLong spans,
                AtomicLong turns) {
        static Side of(String name) {
            return new Side(name, new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new AtomicLong(), new AtomicLong());
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        double seconds = 5;
        int samples = 300;
        Databases.Kind store = Databases.Kind.MEMORY;
        for (String arg : args) {
            if (arg.startsWith("--rounds=")) {
                rounds = Integer.parseInt(arg.substring(9));
            } else if (arg.startsWith("--seconds=")) {
                seconds = Double.parseDouble(arg.substring(10));
            } else if (arg.startsWith("--samples=")) {
                samples = Integer.parseInt(arg.substring(10));
            } else if (arg.startsWith("--store=")) {
                store = Databases.Kind.parse(arg.substring(8));
            } else {
                throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        Side[] sides = run(store, rounds, seconds, samples);
        System.out.println("store: " + store.label());
        System.out.println(table(sides));
    }

    /** Runs {@code rounds} rounds of both sides (off first, then on, then on first, ...) after one warm-up round each. */
    static Side[] run(Databases.Kind store, int rounds, double seconds, int samples) throws Exception {
        Side off = Side.of("off");
        Side on = Side.of("on");
        for (int round = -1; round < rounds; round++) {
            boolean warmUp = round < 0;
            Side[] order = round % 2 == 0 ? new Side[] {off, on} : new Side[] {on, off};
            for (Side side : order) {
                // a fresh database (schema) and store for every measurement: no side reads what the other wrote
                try (Databases.Database db = Databases.open(store, 20)) {
                    measure(db, side, warmUp, seconds, samples);
                }
            }
        }
        return new Side[] {off, on};
    }

    private static void measure(Databases.Database db, Side side, boolean warmUp, double seconds, int samples) throws Exception {
        AtomicLong exported = new AtomicLong();
        OpenTelemetrySdk sdk = side.name().equals("on") ? OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                // a queue deep enough that the SDK drops none of the spans of a round: every span is recorded and exported
                .addSpanProcessor(BatchSpanProcessor.builder(new DroppingExporter(exported)).setMaxQueueSize(1 << 20)
                        .setMaxExportBatchSize(2048).build()).build()).build() : null;
        RunTracer tracer = sdk == null ? RunTracer.NONE : OtelRunTracer.builder(sdk).providerName("bench").build();
        try (ChatService chat = ChatService.builder().store(db.chatStore()).model(new BenchModel())
                .agents(List.of(Agent.builder(AGENT).name("Bench").instructions("You are a benchmark.").build()))
                .tracer(tracer).build()) {
            int firstTokenTurns = warmUp ? samples / 3 : samples;
            double[] firstToken = firstTokens(chat, tracer, firstTokenTurns);
            AtomicLong counted = new AtomicLong();
            double turns = turnsPerSecond(chat, tracer, warmUp ? seconds / 2 : seconds, counted);
            if (!warmUp) {
                side.turns().addAndGet(firstTokenTurns + counted.get());
            }
            if (!warmUp) {
                side.firstTokenP50().add(firstToken[0]);
                side.firstTokenP90().add(firstToken[1]);
                side.turnsPerSecond().add(turns);
            }
        } finally {
            if (sdk != null) {
                sdk.close();
                if (!warmUp) {
                    side.spans().addAndGet(exported.get());
                }
            }
        }
    }

    /** p50 and p90 in µs of send-to-first-token, one turn at a time. */
    private static double[] firstTokens(ChatService chat, RunTracer tracer, int samples) throws Exception {
        String user = "first-token";
        ThreadId thread = null;
        double[] micros = new double[samples];
        for (int i = 0; i < samples; i++) {
            if (i % TURNS_PER_THREAD == 0) {
                thread = chat.createThread(new CreateThreadCommand(user, null, null, null)).id();
            }
            long started = System.nanoTime();
            TraceSpan request = tracer.request("POST", "/api/v1/threads/{id}/chat", "req_bench", null);
            long firstToken;
            try (TraceSpan.Scope scope = request.makeCurrent()) {
                SendReceipt sent = chat.send(SendMessageCommand.text(user, thread, "zero:3"));
                try (RunStream events = chat.subscribe(user, thread, sent.run().id(), 0, DisconnectPolicy.CONTINUE)) {
                    firstToken = 0;
                    while (!events.isFinished()) {
                        Optional<RunEvent> next = events.next(Duration.ofSeconds(10));
                        if (next.isPresent() && next.get() instanceof RunEvent.Token && firstToken == 0) {
                            firstToken = System.nanoTime();
                        }
                    }
                }
            } finally {
                request.end();
            }
            micros[i] = (firstToken - started) / 1_000.0;
        }
        java.util.Arrays.sort(micros);
        return new double[] {micros[samples / 2], micros[(int) (samples * 0.9)]};
    }

    /** Whole turns per second of {@link #THREADS} threads, each its own user, for {@code seconds}. */
    private static double turnsPerSecond(ChatService chat, RunTracer tracer, double seconds, AtomicLong counted) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong turns = new AtomicLong();
        CountDownLatch done = new CountDownLatch(THREADS);
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        long started = System.nanoTime();
        for (int t = 0; t < THREADS; t++) {
            String user = "turns-" + t;
            Thread worker = new Thread(() -> {
                try {
                    ThreadId thread = null;
                    for (int i = 0; !stop.get(); i++) {
                        if (i % TURNS_PER_THREAD == 0) {
                            thread = chat.createThread(new CreateThreadCommand(user, null, null, null)).id();
                        }
                        TraceSpan request = tracer.request("POST", "/api/v1/threads/{id}/chat", "req_bench", null);
                        try (TraceSpan.Scope scope = request.makeCurrent()) {
                            SendReceipt sent = chat.send(SendMessageCommand.text(user, thread, "zero:3"));
                            RunOutcome outcome = chat.await(user, sent.run().id(), Duration.ofSeconds(60));
                            if (outcome.run().status() != RunStatus.COMPLETED) {
                                throw new IllegalStateException("the run ended as " + outcome.run().status());
                            }
                        } finally {
                            request.end();
                        }
                        turns.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    done.countDown();
                }
            }, "tracing-bench-" + t);
            worker.start();
        }
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        long count = turns.get();
        double elapsed = (System.nanoTime() - started) / 1e9;
        done.await();
        if (!failures.isEmpty()) {
            throw new IllegalStateException("a turn failed", failures.get(0));
        }
        counted.set(turns.get());
        return count / elapsed;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static String table(Side[] sides) {
        Side off = sides[0];
        Side on = sides[1];
        StringBuilder sb = new StringBuilder();
        sb.append("| figure | tracing off | tracing on | on / off |\n|---|---|---|---|\n");
        row(sb, "first token p50 (µs, median of rounds)", median(off.firstTokenP50()), median(on.firstTokenP50()));
        row(sb, "first token p90 (µs, median of rounds)", median(off.firstTokenP90()), median(on.firstTokenP90()));
        row(sb, "turns/s, 8 threads (median of rounds)", median(off.turnsPerSecond()), median(on.turnsPerSecond()));
        sb.append(String.format(Locale.ROOT, "%nrounds: %d; turns/s per round off %s, on %s; spans exported (traced side): %d%n",
                off.turnsPerSecond().size(), rounded(off.turnsPerSecond()), rounded(on.turnsPerSecond()), on.spans().get()));
        sb.append(String.format(Locale.ROOT, "turns measured (traced side): %d, spans per turn: %.2f%n", on.turns().get(),
                on.turns().get() == 0 ? 0.0 : (double) on.spans().get() / on.turns().get()));
        return sb.toString();
    }

    private static void row(StringBuilder sb, String figure, double off, double on) {
        sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.3f |%n", figure, off, on, on / off));
    }

    private static List<Long> rounded(List<Double> values) {
        return values.stream().map(Math::round).toList();
    }

    /** An exporter that counts and drops what it is given: the cost measured is recording and batching, not a network. */
    private static final class DroppingExporter implements SpanExporter {
        private final AtomicLong exported;

        DroppingExporter(AtomicLong exported) {
            this.exported = exported;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            exported.addAndGet(spans.size());
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}
