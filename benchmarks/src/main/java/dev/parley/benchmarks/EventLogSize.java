package dev.parley.benchmarks;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.port.out.ChatStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Bytes of event log per answer: {@code runs} answers of {@code tokens} tokens each (run_started,
 * the tokens " 1", " 2", ..., done, as {@code count to N} streams them), written the way the event
 * bus writes them (flushes of {@code flush} events), measured as table plus indexes (PostgreSQL:
 * {@code pg_total_relation_size} after {@code VACUUM FULL}, live rows only; H2: the database file
 * after {@code SHUTDOWN COMPACT}, less an empty database's). Side by side in one run: the previous
 * format (one {@code parley_run_events} row per event) and the chunks, while the runs stream
 * (loose chunks) and once each finished log is one row.
 *
 * <pre>java -jar benchmarks.jar eventlog-size [--runs=20] [--tokens=1000] [--flush=3]</pre>
 */
final class EventLogSize {
    private static final IdGenerator IDS = IdGenerator.timeOrdered();

    private EventLogSize() {}

    static void main(String[] args) throws Exception {
        int runs = 20;
        int tokens = 1000;
        int flush = 3;
        for (String arg : args) {
            if (arg.startsWith("--runs=")) runs = Integer.parseInt(arg.substring(7));
            else if (arg.startsWith("--tokens=")) tokens = Integer.parseInt(arg.substring(9));
            else if (arg.startsWith("--flush=")) flush = Integer.parseInt(arg.substring(8));
            else throw new IllegalArgumentException("unknown option " + arg);
        }
        System.out.printf(Locale.ROOT, "%d answers of %d tokens, flushes of %d events%n", runs, tokens, flush);
        System.out.println("| store | previous format (row per event) | chunks while streaming | finished logs |");
        System.out.println("|---|---|---|---|");
        for (Databases.Kind kind : List.of(Databases.Kind.H2, Databases.Kind.POSTGRES)) {
            long legacy = measure(kind, runs, tokens, flush, Mode.LEGACY);
            long loose = measure(kind, runs, tokens, flush, Mode.LOOSE);
            long finished = measure(kind, runs, tokens, flush, Mode.FINISHED);
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", kind.label(), perAnswer(legacy, runs), perAnswer(loose, runs),
                    perAnswer(finished, runs));
        }
    }

    private enum Mode { LEGACY, LOOSE, FINISHED, NONE }

    private static String perAnswer(long bytes, int runs) {
        return String.format(Locale.ROOT, "%,.1f KB", bytes / 1024.0 / runs);
    }

    private static long measure(Databases.Kind kind, int runs, int tokens, int flush, Mode mode) throws Exception {
        long empty = kind == Databases.Kind.H2 ? measureOnce(kind, runs, tokens, flush, Mode.NONE) : 0;
        return measureOnce(kind, runs, tokens, flush, mode) - empty;
    }

    private static long measureOnce(Databases.Kind kind, int runs, int tokens, int flush, Mode mode) throws Exception {
        try (Databases.Database db = Databases.open(kind, 4)) {
            ChatStore store = db.chatStore();
            for (int r = 0; mode != Mode.NONE && r < runs; r++) {
                List<RunEvent> events = answer(store, tokens);
                if (mode == Mode.LEGACY) {
                    writeLegacy(db, events);
                } else {
                    List<RunEvent> written = mode == Mode.LOOSE ? events.subList(0, events.size() - 1) : events;
                    for (int i = 0; i < written.size(); i += flush) {
                        store.events().append(written.subList(i, Math.min(written.size(), i + flush)));
                    }
                }
            }
            if (mode == Mode.FINISHED) {
                awaitFinal(db);
            }
            if (kind == Databases.Kind.POSTGRES) {
                String table = mode == Mode.LEGACY ? "parley_run_events" : "parley_run_event_chunks";
                try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement()) {
                    s.execute("VACUUM FULL " + db.schema() + "." + table);
                    try (ResultSet rs = s.executeQuery("SELECT pg_total_relation_size('" + db.schema() + "." + table + "')")) {
                        rs.next();
                        return rs.getLong(1);
                    }
                }
            }
            String url = db.url();
            ((AutoCloseable) store).close();
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("SHUTDOWN COMPACT");
            } catch (java.sql.SQLException e) {
                // the shutdown closes the connection under it
            }
            // the file is the URL's path, without the settings after it (";QUERY_CACHE_SIZE=...")
            String file = url.substring("jdbc:h2:file:".length()).split(";", 2)[0];
            return Files.size(Path.of(file + ".mv.db"));
        }
    }

    private static List<RunEvent> answer(ChatStore store, int tokens) {
        Instant now = Instant.now();
        ChatThread thread = ChatThread.create(ThreadId.next(IDS), "sizer", "assistant", null, null, now);
        store.threads().insert(thread);
        Message user = store.messages().append(Message.user(MessageId.next(IDS), thread.id(), "count to " + tokens, now));
        Run run = Run.queued(RunId.next(IDS), thread.id(), "assistant", "demo", user.id(), now);
        store.runs().insert(run);
        List<RunEvent> events = new ArrayList<>();
        events.add(new RunEvent.RunStarted(run.id(), 1, thread.id(), user.id(), "assistant"));
        for (int i = 1; i <= tokens; i++) {
            events.add(new RunEvent.Token(run.id(), i + 1, (i == 1 ? "" : " ") + i));
        }
        events.add(new RunEvent.Done(run.id(), tokens + 2, thread.id(), MessageId.next(IDS), new Usage(12, tokens, false), null));
        return events;
    }

    /** The rows the previous version wrote: one per event, its fields as JSON. */
    private static void writeLegacy(Databases.Database db, List<RunEvent> events) throws Exception {
        boolean postgres = db.kind() == Databases.Kind.POSTGRES;
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement s = c.prepareStatement("INSERT INTO parley_run_events (run_id, seq, type, payload) VALUES (?, ?, ?, "
                     + (postgres ? "CAST(? AS jsonb)" : "?") + ")")) {
            for (RunEvent e : events) {
                s.setString(1, e.runId().value());
                s.setLong(2, e.seq());
                s.setString(3, e.type());
                s.setString(4, legacyPayload(e));
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    /** The fields of the events this benchmark writes, as the previous version stored them in {@code payload}. */
    private static String legacyPayload(RunEvent e) {
        if (e instanceof RunEvent.Token t) {
            return "{\"content\":\"" + t.content() + "\"}";
        }
        if (e instanceof RunEvent.RunStarted r) {
            return "{\"thread_id\":\"" + r.threadId().value() + "\",\"message_id\":\"" + r.messageId().value()
                    + "\",\"agent_id\":\"" + r.agentId() + "\"}";
        }
        RunEvent.Done d = (RunEvent.Done) e;
        return "{\"thread_id\":\"" + d.threadId().value() + "\",\"message_id\":\"" + d.messageId().value()
                + "\",\"usage\":{\"input_tokens\":" + d.usage().inputTokens() + ",\"output_tokens\":" + d.usage().outputTokens()
                + ",\"estimated\":false},\"cost_usd\":null}";
    }

    /** Waits for every finished log to reach its final form: rewritten, or short and left as written. */
    private static void awaitFinal(Databases.Database db) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM parley_run_event_chunks WHERE terminal AND NOT packed")) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("the finished logs were not rewritten within a minute");
    }
}
