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
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/** Context for the database figures: what one commit costs on this machine, with plain JDBC. */
final class Probes {
    private Probes() {}

    /** Median microseconds of a one-row insert committed on its own, on one connection. */
    static double commitMicros(Databases.Kind kind, int commits) {
        long[] took = commitNanos(kind, commits, 0, 0);
        return took[commits / 2] / 1_000.0;
    }

    /**
     * Nanoseconds (sorted) of {@code commits} one-row inserts committed on their own, on one connection, after
     * {@code warm} untimed ones, each timed commit {@code pauseMicros} after the end of the one before: at 20 per
     * second the database and the machine idle between commits, as they do between the turns of scenario 1's
     * slow rate.
     */
    static long[] commitNanos(Databases.Kind kind, int commits, int warm, long pauseMicros) {
        try (Databases.Database db = Databases.open(kind, 1)) {
            db.execute("CREATE TABLE commit_probe (id INT PRIMARY KEY, payload VARCHAR(100))");
            long[] took = new long[commits];
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement s = c.prepareStatement("INSERT INTO commit_probe (id, payload) VALUES (?, ?)")) {
                c.setAutoCommit(true);
                for (int i = -warm; i < commits; i++) {
                    if (i >= 0 && pauseMicros > 0) {
                        LockSupport.parkNanos(pauseMicros * 1_000);
                    }
                    long t0 = System.nanoTime();
                    s.setInt(1, i + warm);
                    s.setString(2, "a row about as long as a short chat message, give or take");
                    s.executeUpdate();
                    if (i >= 0) {
                        took[i] = System.nanoTime() - t0;
                    }
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            Arrays.sort(took);
            return took;
        }
    }

    /** Committed transactions that wrote something, and statements, per turn through the core (JDBC interface). */
    record TurnCost(double commits, double statements) {}

    static TurnCost perTurn(Databases.Kind kind, int turns) throws InterruptedException {
        return perTurn(kind, turns, null);
    }

    /**
     * As {@link #perTurn(Databases.Kind, int)}; when {@code sql} is not null, the statements the measured turns
     * executed are added to it in order (each as {@code [thread] statement}, {@code COMMIT} for a writing commit).
     */
    static TurnCost perTurn(Databases.Kind kind, int turns, List<String> sql) throws InterruptedException {
        AtomicLong commits = new AtomicLong();
        AtomicLong statements = new AtomicLong();
        List<String> log = sql == null ? null : java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        try (Databases.Database db = Databases.open(kind, 4)) {
            DataSource counting = counting(db.dataSource(), commits, statements, log);
            try (JdbcChatStore store = JdbcChatStores.builder().dataSource(counting).schema(db.schema()).build();
                 RunEventBuses.Bus bus = RunEventBuses.create(store);
                 ChatService chat = ChatService.builder().store(store).eventBus(bus).model(new BenchModel())
                         .agents(List.of(Agent.builder("assistant").name("Assistant").instructions("You are a benchmark.").build()))
                         .build()) {
                ThreadId thread = chat.createThread(new CreateThreadCommand("probe", null, null, null)).id();
                for (int i = 0; i < 5; i++) {
                    turn(chat, thread);
                }
                bus.flush();
                long c0 = commits.get();
                long s0 = statements.get();
                if (log != null) {
                    log.clear();
                }
                for (int i = 0; i < turns; i++) {
                    turn(chat, thread);
                }
                bus.flush();
                if (sql != null) {
                    sql.addAll(log);
                }
                return new TurnCost((commits.get() - c0) / (double) turns, (statements.get() - s0) / (double) turns);
            }
        }
    }

    private static void turn(ChatService chat, ThreadId thread) throws InterruptedException {
        var sent = chat.send(SendMessageCommand.text("probe", thread, "zero:3"));
        var outcome = chat.await("probe", sent.run().id(), Duration.ofSeconds(60));
        if (outcome.run().status() != RunStatus.COMPLETED) {
            throw new IllegalStateException("the run ended as " + outcome.run().status());
        }
    }

    /** A data source whose connections count writing commits (explicit, or a write run in auto-commit) and statements. */
    private static DataSource counting(DataSource target, AtomicLong commits, AtomicLong statements, List<String> log) {
        return (DataSource) Proxy.newProxyInstance(Probes.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    Object result = invoke(target, method, args);
                    if (method.getName().equals("getConnection")) {
                        return countingConnection((Connection) result, commits, statements, log);
                    }
                    return result;
                });
    }

    private static Connection countingConnection(Connection target, AtomicLong commits, AtomicLong statements, List<String> log) {
        boolean[] wrote = new boolean[1];
        return (Connection) Proxy.newProxyInstance(Probes.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    Object result = invoke(target, method, args);
                    switch (method.getName()) {
                        case "commit" -> {
                            if (wrote[0]) {
                                commits.incrementAndGet();
                                note(log, "COMMIT");
                            }
                            wrote[0] = false;
                        }
                        case "rollback" -> wrote[0] = false;
                        case "prepareStatement" -> {
                            boolean write = isWrite((String) args[0]);
                            return countingStatement((Statement) result, PreparedStatement.class, target, write, wrote, commits,
                                    statements, log, (String) args[0]);
                        }
                        case "createStatement" -> {
                            return countingStatement((Statement) result, Statement.class, target, true, wrote, commits, statements,
                                    log, null);
                        }
                        default -> { }
                    }
                    return result;
                });
    }

    /** Statements that change rows (H2's {@code SELECT ... FROM FINAL TABLE (UPDATE ...)} included; {@code FOR UPDATE} not). */
    private static boolean isWrite(String sql) {
        String s = sql.stripLeading().toUpperCase(java.util.Locale.ROOT);
        return s.startsWith("INSERT") || s.startsWith("UPDATE") || s.startsWith("DELETE") || s.startsWith("MERGE")
                || s.contains("FINAL TABLE");
    }

    private static Object countingStatement(Statement target, Class<?> type, Connection connection, boolean write,
                                            boolean[] wrote, AtomicLong commits, AtomicLong statements, List<String> log,
                                            String prepared) {
        return Proxy.newProxyInstance(Probes.class.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (method.getName().startsWith("execute")) {
                statements.incrementAndGet();
                note(log, prepared != null ? prepared : args != null && args.length > 0 ? String.valueOf(args[0]) : method.getName());
                if (write) {
                    if (connection.getAutoCommit()) {
                        commits.incrementAndGet();
                    } else {
                        wrote[0] = true;
                    }
                }
            }
            return invoke(target, method, args);
        });
    }

    private static void note(List<String> log, String what) {
        if (log != null) {
            log.add("[" + Thread.currentThread().getName() + "] " + what.replaceAll("\\s+", " "));
        }
    }

    /** Calls {@code method} on {@code target}, throwing what it throws (not its reflective wrapper): for the proxies of JDBC objects. */
    static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
