package dev.parley.benchmarks.load;

import dev.parley.adapter.mcp.McpServerConfig;
import dev.parley.adapter.mcp.McpTools;
import dev.parley.benchmarks.Databases;
import dev.parley.benchmarks.Report;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.core.RunEventBuses;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.port.out.Tool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Scenario 13, cancel during a long MCP tool call, in process on the in-memory store: a run's tool is
 * {@code @modelcontextprotocol/server-everything}'s {@code trigger-long-running-operation} over stdio
 * (10 s, a progress notification every 100 ms; the server goes on with a cancelled operation to its
 * end, so a longer one would only pile up progress of abandoned calls). Once the first progress
 * reached the run as a {@code trace_update}, the run is cancelled; measured: cancel -> the run's {@code cancelled} event,
 * beside the same run whose tool is plain Java (waits, reports progress, stops on cancel). The server's
 * stdin passes through {@code tee} into a file, and every cancel must show there as a
 * {@code notifications/cancelled} (checked; the scenario fails otherwise).
 */
public final class McpCancelLatency {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String USER = "bench";
    private static final String MCP_TOOL = "everything_trigger-long-running-operation";

    private McpCancelLatency() {
    }

    /** Calls the agent's one tool for 10 s in 100 steps; answers its result with one token. */
    private static final class LongCallModel implements ChatModel {
        private final AtomicLong ids = new AtomicLong();

        @Override
        public String defaultModel() {
            return "bench-mcp";
        }

        @Override
        public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
            List<Message> messages = request.messages();
            if (messages.get(messages.size() - 1).role() == Role.TOOL) {
                listener.onToken("done");
                return new ModelResponse("done", List.of(), Usage.reported(10, 1), "stop", defaultModel());
            }
            ToolCall call = new ToolCall("call_" + ids.incrementAndGet(), request.tools().get(0).name(), "{\"duration\":10,\"steps\":100}");
            return new ModelResponse("", List.of(call), Usage.reported(10, 1), "tool_calls", defaultModel());
        }
    }

    /** The same tool in Java: a progress line every 100 ms for 10 s, stopped by the cancel. */
    private static Tool javaTool() {
        return Tool.of("java_long", "Waits", "{\"type\":\"object\"}", ctx -> {
            CountDownLatch cancelled = new CountDownLatch(1);
            try (Cancellation.Registration ignored = ctx.cancellation().onCancel(cancelled::countDown)) {
                for (int i = 1; i <= 100; i++) {
                    if (cancelled.await(100, TimeUnit.MILLISECONDS)) {
                        return "cancelled";
                    }
                    ctx.progress().accept("progress " + i + "/100");
                }
            }
            return "done";
        }).withTimeout(Duration.ofSeconds(120));
    }

    /** Runs the scenario with {@code script} (server-everything's dist/index.js) and adds its figures to {@code report}. */
    public static void run(Path script, int cancels, Path out, Report report) throws Exception {
        if (!Files.isRegularFile(script)) {
            report.skipped("13", "cancel during a long MCP tool call", "server-everything not installed at " + script
                    + " (adapter-mcp/mcp-servers/install.sh)");
            return;
        }
        Path received = out.resolve("mcp-server-stdin.jsonl");
        Files.deleteIfExists(received);
        McpServerConfig everything = McpServerConfig.stdio("everything", "sh",
                List.of("-c", "tee -a \"$0\" | exec node \"$1\" stdio", received.toAbsolutePath().toString(), script.toAbsolutePath().toString()),
                Map.of()).withTimeout(Duration.ofSeconds(120));
        try (McpTools mcp = McpTools.builder().server(everything).start();
             Databases.Database db = Databases.open(Databases.Kind.MEMORY, 4)) {
            Tool mcpTool = mcp.tools().stream().filter(t -> t.name().equals(MCP_TOOL)).findFirst()
                    .orElseThrow(() -> new IllegalStateException("server-everything offers no " + MCP_TOOL + ": "
                            + mcp.problem("everything").orElse("")));
            ChatStore store = db.chatStore();
            try (RunEventBuses.Bus bus = RunEventBuses.create(store);
                 ChatService chat = ChatService.builder().store(store).eventBus(bus).model(new LongCallModel())
                         .agents(List.of(Agent.builder("mcp").tools(mcpTool).build(), Agent.builder("java").tools(javaTool()).build()))
                         .build()) {
                // warm both paths up, unmeasured, then measure them in turns so that load hits both alike
                for (int i = 0; i < Math.max(3, cancels / 10); i++) {
                    cancelOne(chat, bus, "mcp");
                    cancelOne(chat, bus, "java");
                }
                long[] viaMcp = new long[cancels];
                long[] inJava = new long[cancels];
                for (int i = 0; i < cancels; i++) {
                    viaMcp[i] = cancelOne(chat, bus, "mcp");
                    inJava[i] = cancelOne(chat, bus, "java");
                }
                int expected = Math.max(3, cancels / 10) + cancels;
                long seen = awaitCancellations(received, expected);
                double p50 = percentile(viaMcp, 50) / 1e3;
                double p99 = percentile(viaMcp, 99) / 1e3;
                report.add("13", "cancel during an MCP tool call -> cancelled event, p50 / p99 (server-everything, stdio)",
                        Report.micros(p50) + " / " + Report.micros(p99), "p99 <= 50 ms", p99 <= 50_000 && seen == expected,
                        cancels + " cancels one at a time, each once the call's first progress arrived; the server read "
                                + seen + " of " + expected + " notifications/cancelled (warm-up included)");
                report.add("13", "the same with the tool in Java, p50 / p99",
                        Report.micros(percentile(inJava, 50) / 1e3) + " / " + Report.micros(percentile(inJava, 99) / 1e3), null, null,
                        "measured in turns with the MCP runs; ratio of p50s " + Report.ratio(percentile(viaMcp, 50) / percentile(inJava, 50)));
                if (seen != expected) {
                    throw new IllegalStateException("the MCP server read " + seen + " cancellations of " + expected);
                }
            }
        }
    }

    /** Starts a run of {@code agent}, cancels it once its tool reported progress; nanoseconds from cancel to the cancelled event. */
    private static long cancelOne(ChatService chat, RunEventBuses.Bus bus, String agent) throws InterruptedException {
        var sent = chat.send(SendMessageCommand.newThread(USER, "go").withAgent(agent));
        RunId runId = sent.run().id();
        try (RunSubscription events = bus.subscribe(runId, 0)) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!(next(events, deadline, runId) instanceof RunEvent.TraceUpdate)) {
                // the call is under way at the server once its progress arrives
            }
            long cancelled = System.nanoTime();
            chat.cancelRun(USER, sent.run().threadId(), runId);
            while (!(next(events, deadline, runId) instanceof RunEvent.Cancelled)) {
                // tokens or progress that raced the cancel
            }
            return System.nanoTime() - cancelled;
        }
    }

    private static RunEvent next(RunSubscription events, long deadline, RunId runId) throws InterruptedException {
        Optional<RunEvent> event = events.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        if (event.isEmpty() && (System.nanoTime() > deadline || events.isFinished())) {
            throw new IllegalStateException("run " + runId + " did not get on within " + WAIT);
        }
        return event.orElse(null);
    }

    /** How many notifications/cancelled the server read, waiting up to 10 s for {@code expected}. */
    private static long awaitCancellations(Path received, int expected) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long seen = 0;
        while (System.nanoTime() < deadline) {
            try (var lines = Files.lines(received)) {
                seen = lines.filter(l -> l.contains("\"notifications/cancelled\"")).count();
            }
            if (seen >= expected) {
                break;
            }
            Thread.sleep(50);
        }
        return seen;
    }

    private static double percentile(long[] values, double p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}
