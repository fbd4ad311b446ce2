package dev.parley.benchmarks.load;

import dev.parley.benchmarks.Databases;
import dev.parley.benchmarks.Report;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.core.RunEventBuses;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.port.out.Tool;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 8, runs waiting for approval, in process over one database: two chat services ("servers"
 * A and B, each with its own store object, pool connections and event bus, as two processes would
 * have) share it. (a) decision -> first token of the resumed model turn, as a reader on server A
 * sees it: the decision taken on A itself, then on B (the run resumes on B, its events reach A through
 * the store and its hints); (b) the heap and the threads that N runs waiting for approval hold on
 * the server where they paused, after a full GC.
 */
public final class ApprovalLatency {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String USER = "bench";
    private static final String AGENT = "cashier";

    private ApprovalLatency() {
    }

    /** A model that calls {@code refund} on a user message and answers a tool result with one token. */
    private static final class RefundModel implements ChatModel {
        private final AtomicLong ids = new AtomicLong();

        @Override
        public String defaultModel() {
            return "bench-approvals";
        }

        @Override
        public ModelResponse complete(dev.parley.chat.port.out.ModelRequest request, dev.parley.chat.port.out.ModelStreamListener listener,
                                      dev.parley.chat.port.out.Cancellation cancellation) {
            List<Message> messages = request.messages();
            if (messages.get(messages.size() - 1).role() == Role.TOOL) {
                listener.onToken("Refunded.");
                return new ModelResponse("Refunded.", List.of(), Usage.reported(10, 1), "stop", defaultModel());
            }
            ToolCall call = new ToolCall("call_" + ids.incrementAndGet(), "refund", "{\"order\":\"A-1\"}");
            return new ModelResponse("", List.of(call), Usage.reported(10, 1), "tool_calls", defaultModel());
        }
    }

    private static ChatService server(ChatStore store, RunEventBuses.Bus bus, String name) {
        Tool refund = Tool.of("refund", "Refunds an order", "{\"type\":\"object\"}", ctx -> "refunded").requiringApproval();
        return ChatService.builder().store(store).eventBus(bus).model(new RefundModel()).instanceId(name)
                .agents(List.of(Agent.builder(AGENT).tools(refund).build())).build();
    }

    /** Runs the scenario on {@code kind} and adds its figures to {@code report}. */
    public static void run(Databases.Kind kind, int decisions, int waiting, Report report) throws Exception {
        try (Databases.Database db = Databases.open(kind, 16)) {
            ChatStore storeA = db.chatStore();
            ChatStore storeB = kind == Databases.Kind.MEMORY ? storeA : db.chatStore();
            try (RunEventBuses.Bus busA = RunEventBuses.create(storeA); RunEventBuses.Bus busB = RunEventBuses.create(storeB);
                 ChatService a = server(storeA, busA, "server-a"); ChatService b = server(storeB, busB, "server-b")) {
                String label = kind.name().toLowerCase(Locale.ROOT);
                // warm the paths up, unmeasured
                measure(a, busA, a, decisions / 10 + 1);
                long[] same = measure(a, busA, a, decisions);
                report.add("8", "decision -> first token of the resumed turn, p50 / p99, same server, " + label,
                        Report.micros(percentile(same, 50) / 1e3) + " / " + Report.micros(percentile(same, 99) / 1e3), null, null,
                        decisions + " decisions one at a time, taken on A, the token read on A");
                if (kind == Databases.Kind.POSTGRES) {
                    // (an H2 file belongs to one process: servers share PostgreSQL, whose hints cross between them)
                    measure(a, busA, b, decisions / 10 + 1);
                    long[] across = measure(a, busA, b, decisions);
                    report.add("8", "decision -> first token of the resumed turn, p50 / p99, across servers, " + label,
                            Report.micros(percentile(across, 50) / 1e3) + " / " + Report.micros(percentile(across, 99) / 1e3), null,
                            null, decisions + " decisions one at a time, taken on B (the run resumes there), the token read on A");
                }
                heldByWaitingRuns(a, waiting, label, report);
            }
        }
    }

    /** Pauses {@code n} runs on {@code pausing}, decides each on {@code decider}; nanoseconds to the first token on {@code reader}. */
    private static long[] measure(ChatService pausing, RunEventBuses.Bus reader, ChatService decider, int n) throws Exception {
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            RunOutcome waiting = pauseOne(pausing);
            RunId runId = waiting.run().id();
            ThreadId threadId = waiting.run().threadId();
            ToolCall call = waiting.pendingApprovals().get(0);
            try (RunSubscription events = reader.subscribe(runId, reader.lastSeq(runId))) {
                long sent = System.nanoTime();
                decider.decide(new ApprovalCommand(USER, threadId, runId, call.id(), ApprovalDecision.APPROVE, null));
                long deadline = sent + WAIT.toNanos();
                while (true) {
                    Optional<RunEvent> event = events.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                    if (event.isPresent() && event.get() instanceof RunEvent.Token) {
                        nanos[i] = System.nanoTime() - sent;
                        break;
                    }
                    if (System.nanoTime() > deadline || events.isFinished()) {
                        throw new IllegalStateException("no token of run " + runId + " within " + WAIT);
                    }
                }
            }
            RunOutcome done = decider.await(USER, runId, WAIT);
            if (done.run().status() != RunStatus.COMPLETED) {
                throw new IllegalStateException("run " + runId + " ended " + done.run().status().wireName());
            }
        }
        return nanos;
    }

    private static RunOutcome pauseOne(ChatService server) throws InterruptedException {
        var sent = server.send(SendMessageCommand.newThread(USER, "refund A-1").withAgent(AGENT));
        RunOutcome waiting = server.await(USER, sent.run().id(), WAIT);
        if (waiting.run().status() != RunStatus.REQUIRES_ACTION) {
            throw new IllegalStateException("run " + sent.run().id() + " is " + waiting.run().status().wireName());
        }
        return waiting;
    }

    /** Heap and threads of the server before and after {@code n} runs paused on it, each after a full GC. */
    private static void heldByWaitingRuns(ChatService server, int n, String label, Report report) throws Exception {
        Thread.sleep(500); // the last measured runs' logs leave the bus, their executions the scheduler
        long heapBefore = usedHeapAfterGc();
        int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
        ExecutorService senders = Executors.newFixedThreadPool(8);
        try {
            List<Future<RunOutcome>> paused = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                paused.add(senders.submit(() -> pauseOne(server)));
            }
            for (Future<RunOutcome> f : paused) {
                f.get();
            }
            // the outcomes are the caller's, not what the server holds: not counted (a local variable of a frame
            // still running stays a root of the collector)
            paused.clear();
        } finally {
            senders.shutdown();
        }
        Thread.sleep(500);
        long heapAfter = usedHeapAfterGc();
        int threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
        double perRun = (heapAfter - heapBefore) / (double) n;
        report.add("8", "heap held per run waiting for approval, " + label,
                String.format(Locale.ROOT, "%.0f B", perRun), "<= 2 KiB", perRun <= 2048,
                String.format(Locale.ROOT, "%,d runs paused; heap after full GC %.1f -> %.1f MiB; live threads %d -> %d",
                        n, heapBefore / 1048576.0, heapAfter / 1048576.0, threadsBefore, threadsAfter));
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static double percentile(long[] values, double p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
