package dev.parley.benchmarks;

import dev.parley.adapter.jdbc.JdbcChatStore;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.core.RunEventBuses;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Agent;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Where the wall-clock time of one sequential turn through the core goes ({@code sendAndAwait}, the call of
 * scenario 6's warmed comparison): every statement's and commit's time at the JDBC interface, and the time
 * between them (Parley's own code, its hand-offs and waits), as medians over many turns of one shape.
 *
 * <pre>java -jar benchmarks.jar turn-time [--store=postgres|h2] [--turns=N] [--plain]</pre>
 *
 * With {@code --plain} the JDBC calls are not timed (no proxies around the driver): it reports the turn's wall
 * clock, the calling thread's CPU time and the bytes it allocates, medians per turn, as the turn costs without the instrument.
 */
final class TurnTimeline {
    private static final String NOTIFIER = "parley-pg-notifier";

    /** One timed call at the JDBC interface. */
    private record Span(String what, long start, long end) {}

    private final List<Span> spans = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean recording;

    private TurnTimeline() {}

    static void main(String[] args) throws Exception {
        Databases.Kind kind = Databases.Kind.POSTGRES;
        int turns = 2_000;
        boolean plain = false;
        for (String arg : args) {
            if (arg.startsWith("--store=")) {
                kind = Databases.Kind.parse(arg.substring("--store=".length()));
            } else if (arg.startsWith("--turns=")) {
                turns = Main.atLeastOne(arg);
            } else if (arg.equals("--plain")) {
                plain = true;
            } else {
                throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        TurnTimeline timeline = new TurnTimeline();
        System.out.println(plain ? timeline.plain(kind, turns) : timeline.measure(kind, turns));
    }

    /** Wall clock, the calling thread's CPU time and allocations per turn, medians, with nothing between Parley and the driver. */
    private String plain(Databases.Kind kind, int turns) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Long> walls = new ArrayList<>();
        List<Long> cpus = new ArrayList<>();
        List<Long> allocated = new ArrayList<>();
        try (Databases.Database db = Databases.open(kind, 10);
             JdbcChatStore store = JdbcChatStores.builder().dataSource(db.dataSource()).schema(db.schema()).build();
             RunEventBuses.Bus bus = RunEventBuses.create(store);
             ChatService chat = service(store, bus)) {
            turns(chat, turns, (i, send) -> {
                long bytes = threads.getCurrentThreadAllocatedBytes();
                long cpu = threads.getCurrentThreadCpuTime();
                long start = System.nanoTime();
                send.run();
                long end = System.nanoTime();
                long cpuEnd = threads.getCurrentThreadCpuTime();
                long bytesEnd = threads.getCurrentThreadAllocatedBytes();
                if (i >= 0) {
                    walls.add(end - start);
                    cpus.add(cpuEnd - cpu);
                    allocated.add(bytesEnd - bytes);
                }
            });
        }
        return String.format(Locale.ROOT, "%s: %d turns (sendAndAwait, a new chat thread every 5 turns, no JDBC timing), median %.0f µs a"
                        + " turn; the calling thread's CPU %.0f µs and its allocations %,d bytes a turn (medians)", kind.label(), walls.size(),
                median(walls) / 1_000.0, median(cpus) / 1_000.0, median(allocated));
    }

    private static ChatService service(JdbcChatStore store, RunEventBuses.Bus bus) {
        return ChatService.builder().store(store).eventBus(bus).model(new BenchModel())
                .agents(List.of(Agent.builder("assistant").name("Assistant").instructions("You are a benchmark.").build()))
                .build();
    }

    /** One turn's send and wait. */
    private interface Send {
        void run() throws Exception;
    }

    /** What is measured around one turn's send; {@code turn} is negative while the service warms up. */
    private interface AroundTurn {
        void around(int turn, Send send) throws Exception;
    }

    /** The warm-up's turns, then {@code turns} timed ones: each a {@code sendAndAwait}, on a new chat thread every 5 turns. */
    private static void turns(ChatService chat, int turns, AroundTurn measure) throws Exception {
        ThreadId thread = null;
        int warm = Math.max(500, turns / 2);
        for (int i = -warm; i < turns; i++) {
            if (Math.floorMod(i, 5) == 0) {
                thread = chat.createThread(new CreateThreadCommand("timeline", null, null, null)).id();
            }
            ThreadId on = thread;
            measure.around(i, () -> {
                var outcome = chat.sendAndAwait(SendMessageCommand.text("timeline", on, "zero:3"), Duration.ofSeconds(60)).outcome();
                if (outcome.run().status() != RunStatus.COMPLETED) {
                    throw new IllegalStateException("the run ended as " + outcome.run().status());
                }
            });
        }
    }

    private String measure(Databases.Kind kind, int turns) throws Exception {
        List<List<Span>> perTurn = new ArrayList<>();
        List<Long> totals = new ArrayList<>();
        int[] notifierCalls = {0};
        try (Databases.Database db = Databases.open(kind, 10)) {
            DataSource timed = timed(db.dataSource());
            try (JdbcChatStore store = JdbcChatStores.builder().dataSource(timed).schema(db.schema()).build();
                 RunEventBuses.Bus bus = RunEventBuses.create(store);
                 ChatService chat = service(store, bus)) {
                turns(chat, turns, (i, send) -> {
                    spans.clear();
                    recording = i >= 0;
                    long start = System.nanoTime();
                    send.run();
                    long end = System.nanoTime();
                    recording = false;
                    if (i >= 0) {
                        List<Span> turn = new ArrayList<>();
                        synchronized (spans) {
                            for (Span s : spans) {
                                if (s.what().startsWith("[" + NOTIFIER + "]")) {
                                    notifierCalls[0]++;
                                } else {
                                    turn.add(new Span(s.what(), s.start() - start, s.end() - start));
                                }
                            }
                        }
                        turn.sort((a, b) -> Long.compare(a.start(), b.start()));
                        turn.add(new Span("(the call returns)", end - start, end - start));
                        perTurn.add(turn);
                        totals.add(end - start);
                    }
                });
            }
        }
        return report(kind, perTurn, totals, notifierCalls[0]);
    }

    /** Medians per position over the turns of the most frequent shape (the same statements in the same order). */
    private static String report(Databases.Kind kind, List<List<Span>> perTurn, List<Long> totals, int notifierCalls) {
        Map<List<String>, List<List<Span>>> byShape = new HashMap<>();
        for (List<Span> turn : perTurn) {
            byShape.computeIfAbsent(turn.stream().map(Span::what).toList(), k -> new ArrayList<>()).add(turn);
        }
        List<List<Span>> common = byShape.values().stream().max((a, b) -> Integer.compare(a.size(), b.size())).orElseThrow();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%s: %d turns (sendAndAwait, a new chat thread every 5 turns), median %.0f µs a turn;"
                        + " %d of them of the shape below; %.1f notifier calls a turn besides, off the turn's path%n",
                kind.label(), totals.size(), median(totals) / 1_000.0, common.size(), notifierCalls / (double) totals.size()));
        out.append(String.format(Locale.ROOT, "%8s %8s  %s%n", "gap µs", "call µs", "call (thread, statement)"));
        long gaps = 0;
        long calls = 0;
        for (int p = 0; p < common.get(0).size(); p++) {
            List<Long> gap = new ArrayList<>();
            List<Long> took = new ArrayList<>();
            for (List<Span> turn : common) {
                long before = p == 0 ? 0 : turn.get(p - 1).end();
                gap.add(turn.get(p).start() - before);
                took.add(turn.get(p).end() - turn.get(p).start());
            }
            gaps += median(gap);
            calls += median(took);
            String what = common.get(0).get(p).what();
            out.append(String.format(Locale.ROOT, "%8.0f %8.0f  %s%n", median(gap) / 1_000.0, median(took) / 1_000.0,
                    what.length() > 110 ? what.substring(0, 110) + "..." : what));
        }
        out.append(String.format(Locale.ROOT, "sum of the medians: %.0f µs between calls, %.0f µs in calls%n", gaps / 1_000.0,
                calls / 1_000.0));
        return out.toString();
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private void record(String what, long start) {
        if (recording) {
            spans.add(new Span("[" + Thread.currentThread().getName().replaceAll("-\\d+$", "-N") + "] "
                    + what.replaceAll("\\s+", " "), start, System.nanoTime()));
        }
    }

    private DataSource timed(DataSource target) {
        return (DataSource) Proxy.newProxyInstance(TurnTimeline.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    Object result = Probes.invoke(target, method, args);
                    return method.getName().equals("getConnection") ? timedConnection((Connection) result) : result;
                });
    }

    private Connection timedConnection(Connection target) {
        return (Connection) Proxy.newProxyInstance(TurnTimeline.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    long start = System.nanoTime();
                    Object result = Probes.invoke(target, method, args);
                    switch (method.getName()) {
                        case "commit", "rollback" -> record(method.getName().toUpperCase(Locale.ROOT), start);
                        case "prepareStatement" -> {
                            return timedStatement((Statement) result, PreparedStatement.class, (String) args[0]);
                        }
                        case "createStatement" -> {
                            return timedStatement((Statement) result, Statement.class, null);
                        }
                        default -> { }
                    }
                    return result;
                });
    }

    private Object timedStatement(Statement target, Class<?> type, String prepared) {
        return Proxy.newProxyInstance(TurnTimeline.class.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            long start = System.nanoTime();
            Object result = Probes.invoke(target, method, args);
            if (method.getName().startsWith("execute")) {
                record(prepared != null ? prepared : args != null && args.length > 0 ? String.valueOf(args[0]) : method.getName(), start);
            }
            return result;
        });
    }

}
