package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Reading a finished run's event log of {@code events} events: the whole replay (pages of 1,000, as
 * {@code /events} reads them) and a resume of 100 events after seq 10 and after the middle, from
 * the packed chunks ({@code format=chunks}) and from rows of the previous format, one per event
 * ({@code format=rows}, which this version still reads until its sweep converts them).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EventLogReadBenchmark {
    @Param({"h2", "postgres"})
    public String store;

    @Param({"1000", "10000"})
    public int events;

    @Param({"chunks", "rows"})
    public String format;

    private Databases.Database db;
    private ChatStore parley;
    private RunId run;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        db = Databases.open(Databases.Kind.parse(store), 4);
        parley = db.chatStore();
        Instant now = Instant.now();
        ChatThread thread = ChatThread.create(ThreadId.next(Fixtures.IDS), "reader", Fixtures.AGENT, null, null, now);
        parley.threads().insert(thread);
        Message user = parley.messages().append(Message.user(MessageId.next(Fixtures.IDS), thread.id(), "count", now));
        Run r = Run.queued(RunId.next(Fixtures.IDS), thread.id(), Fixtures.AGENT, "demo", user.id(), now);
        parley.runs().insert(r);
        run = r.id();
        List<RunEvent> log = new ArrayList<>();
        log.add(new RunEvent.RunStarted(run, 1, thread.id(), user.id(), Fixtures.AGENT));
        for (int i = 2; i < events; i++) {
            log.add(new RunEvent.Token(run, i, " " + (i - 1)));
        }
        log.add(new RunEvent.Done(run, events, thread.id(), MessageId.next(Fixtures.IDS), new Usage(5, events - 2, false), null));
        if (format.equals("chunks")) {
            for (int i = 0; i < log.size(); i += 3) {
                parley.events().append(log.subList(i, Math.min(log.size(), i + 3)));
            }
            awaitPacked();
        } else {
            boolean postgres = db.kind() == Databases.Kind.POSTGRES;
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement s = c.prepareStatement("INSERT INTO parley_run_events (run_id, seq, type, payload) VALUES (?, ?, ?, "
                         + (postgres ? "CAST(? AS jsonb)" : "?") + ")")) {
                for (RunEvent e : log) {
                    s.setString(1, run.value());
                    s.setLong(2, e.seq());
                    s.setString(3, e.type());
                    s.setString(4, e instanceof RunEvent.Token t ? "{\"content\":\"" + t.content() + "\"}" : payload(e));
                    s.addBatch();
                }
                s.executeBatch();
            }
            // a store opened now finds the rows of the previous format, as after an upgrade; its sweep waits a minute
            parley = db.chatStore();
        }
    }

    private static String payload(RunEvent e) {
        if (e instanceof RunEvent.RunStarted r) {
            return "{\"thread_id\":\"" + r.threadId().value() + "\",\"message_id\":\"" + r.messageId().value() + "\",\"agent_id\":\""
                    + r.agentId() + "\"}";
        }
        RunEvent.Done d = (RunEvent.Done) e;
        return "{\"thread_id\":\"" + d.threadId().value() + "\",\"message_id\":\"" + d.messageId().value()
                + "\",\"usage\":{\"input_tokens\":5,\"output_tokens\":" + d.usage().outputTokens() + ",\"estimated\":false},\"cost_usd\":null}";
    }

    private void awaitPacked() throws Exception {
        long rows = (events + 999) / 1000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM parley_run_event_chunks WHERE packed = TRUE")) {
            while (System.nanoTime() < deadline) {
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    if (r.getLong(1) == rows) {
                        return;
                    }
                }
                Thread.sleep(20);
            }
        }
        throw new IllegalStateException("the log was not packed within a minute");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        db.close();
    }

    @Benchmark
    public int replay() {
        int seen = 0;
        long after = 0;
        for (;;) {
            List<RunEvent> page = parley.events().read(run, after, 1000);
            if (page.isEmpty()) {
                return seen;
            }
            seen += page.size();
            after = page.get(page.size() - 1).seq();
        }
    }

    @Benchmark
    public List<RunEvent> resumeAt10() {
        return parley.events().read(run, 10, 100);
    }

    @Benchmark
    public List<RunEvent> resumeInTheMiddle() {
        return parley.events().read(run, events / 2, 100);
    }
}
