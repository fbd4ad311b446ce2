package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ChatStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * The conversation tree's cost promises, on a thread of 10 messages ({@code shape=10}) and on one of
 * 10,000 messages in 50 branches ({@code shape=10000x50}: a first branch of 200 messages, then 49
 * forks, each 150 messages above the leaf of the one before and 200 messages long, so that the
 * active path crosses all 50 branches):
 * <ul>
 *   <li>{@code append}: one message appended to the active leaf, through the store port;</li>
 *   <li>{@code window}: the history window a run reads ({@code latest(50 + 32)});</li>
 *   <li>{@code page}: a page of 20 of the active path from its middle (a keyset cursor), oldest first;</li>
 *   <li>{@code walkPage}: the same page read the other way a tree could be stored (each message naming
 *       only its parent): a recursive query that walks up from the active leaf to the page. This is
 *       what the branch layout of {@code adapter-jdbc} was chosen against.</li>
 *   <li>{@code turn}: through the core, a plain turn ({@code mode=plain}) or the edit of the thread's
 *       last question and the run that answers it ({@code mode=edit}), on threads of the shape.</li>
 * </ul>
 * Single-shot timing: every iteration is one operation, on the next of a pool of threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TreeBenchmark {
    private static final String USER = "tree";
    static final int BRANCHES = 50;
    static final int BRANCH_LENGTH = 200;
    static final int FORK_BACK = 150;

    @Param({"h2", "postgres"})
    public String store;

    @Param({"10", "10000x50"})
    public String shape;

    @Param({"plain", "edit"})
    public String mode;

    @Param({"4"})
    public int pool;

    private Databases.Database db;
    private ChatStore parley;
    private Fixtures.Wired wired;
    private final List<ThreadId> threads = new ArrayList<>();
    private final List<String> middleCursors = new ArrayList<>();
    private final List<Long> middlePositions = new ArrayList<>();
    private int next;

    /**
     * The branched threads of each store, made once per JVM: in the quick run every trial runs in one
     * JVM, and making 10,000 messages again for each of them would take most of the run. A trial
     * adds at most a few dozen messages to a thread of 10,000.
     */
    private static final Map<String, Shared> SHARED = new HashMap<>();

    private record Shared(Databases.Database db, ChatStore store, List<ThreadId> threads, List<String> cursors,
                          List<Long> positions) {
    }

    private boolean ownDb;

    @Setup(Level.Trial)
    public void setUp() {
        if (shape.equals("10")) {
            ownDb = true;
            db = Databases.open(Databases.Kind.parse(store), 10);
            parley = db.chatStore();
            for (int t = 0; t < pool; t++) {
                ThreadId thread = Fixtures.longThread(parley, USER, 10);
                threads.add(thread);
                middleCursors.add(middleCursor(thread));
            }
        } else {
            Shared shared = SHARED.computeIfAbsent(store + "/" + pool, key -> {
                Databases.Database opened = Databases.open(Databases.Kind.parse(store), 10);
                ChatStore chatStore = opened.chatStore();
                parley = chatStore;
                List<ThreadId> made = new ArrayList<>();
                List<String> cursors = new ArrayList<>();
                for (int t = 0; t < pool; t++) {
                    ThreadId thread = branched(chatStore);
                    made.add(thread);
                    cursors.add(middleCursor(thread));
                }
                Runtime.getRuntime().addShutdownHook(new Thread(opened::close));
                return new Shared(opened, chatStore, made, cursors, new ArrayList<>(middlePositions));
            });
            db = shared.db();
            parley = shared.store();
            threads.addAll(shared.threads());
            middleCursors.addAll(shared.cursors());
            middlePositions.clear();
            middlePositions.addAll(shared.positions());
        }
        wired = Fixtures.wire(parley);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wired.close();
        if (ownDb) {
            db.close();
        }
    }

    @Benchmark
    public Object append() {
        ThreadId thread = nextThread();
        return parley.messages().append(Fixtures.message(thread, Role.USER, Fixtures.LINE));
    }

    @Benchmark
    public Object window() {
        return parley.messages().latest(nextThread(), HistoryBenchmark.WINDOW);
    }

    @Benchmark
    public Object page() {
        int i = next++ % threads.size();
        return parley.messages().page(threads.get(i), new PageRequest(20, middleCursors.get(i)), SortOrder.ASC);
    }

    @Benchmark
    public Object walkPage() throws SQLException {
        int i = next++ % threads.size();
        long after = middlePositions.get(i);
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement s = c.prepareStatement(WALK)) {
            s.setString(1, threads.get(i).value());
            s.setLong(2, after);
            s.setLong(3, after);
            s.setLong(4, after + 20);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    /** From the active leaf up through the parents down to the page's start, then the page (20 rows), oldest first. */
    private static final String WALK = "WITH RECURSIVE up(id, parent_id, position) AS ("
            + " SELECT m.id, m.parent_id, m.position FROM parley_messages m JOIN parley_threads t ON m.id = t.active_leaf_id"
            + " WHERE t.id = ?"
            + " UNION ALL SELECT p.id, p.parent_id, p.position FROM parley_messages p JOIN up ON p.id = up.parent_id"
            + " WHERE up.position > ?)"
            + " SELECT id FROM up WHERE position > ? AND position <= ? ORDER BY position";

    @Benchmark
    public Object turn() throws InterruptedException {
        ThreadId thread = nextThread();
        if (mode.equals("plain")) {
            return Fixtures.turn(wired.chat(), USER, thread);
        }
        // the last question of the active path, edited and answered again
        List<Message> window = parley.messages().latest(thread, 2);
        MessageId question = window.get(0).role() == Role.USER ? window.get(0).id() : window.get(1).id();
        SendReceipt sent = wired.chat().edit(EditMessageCommand.text(USER, thread, question, "zero:3"));
        RunOutcome outcome = wired.chat().await(USER, sent.run().id(), Duration.ofSeconds(60));
        if (outcome.run().status() != RunStatus.COMPLETED) {
            throw new IllegalStateException("the run ended as " + outcome.run().status());
        }
        return outcome;
    }

    private ThreadId nextThread() {
        return threads.get(next++ % threads.size());
    }

    /** A thread of 10,000 messages in 50 branches whose active path runs through all of them. */
    static ThreadId branched(ChatStore store) {
        ChatThread thread = ChatThread.create(ThreadId.next(Fixtures.IDS), USER, Fixtures.AGENT, "tree", null, Instant.now());
        store.threads().insert(thread);
        store.inTransaction(() -> {
            List<MessageId> path = new ArrayList<>();
            for (int b = 0; b < BRANCHES; b++) {
                int from = b == 0 ? 0 : path.size() - FORK_BACK;
                MessageId parent = from == 0 ? null : path.get(from - 1);
                List<MessageId> kept = new ArrayList<>(path.subList(0, from));
                for (int i = 0; i < BRANCH_LENGTH; i++) {
                    Role role = (from + i) % 2 == 0 ? Role.USER : Role.ASSISTANT;
                    Message m = i == 0
                            ? store.messages().appendTo(Fixtures.message(thread.id(), role, Fixtures.LINE), parent)
                            : store.messages().append(Fixtures.message(thread.id(), role, Fixtures.LINE));
                    kept.add(m.id());
                }
                path = kept;
            }
        });
        return thread.id();
    }

    /** The cursor of the page that starts halfway down the active path. */
    private String middleCursor(ThreadId thread) {
        long depth = parley.messages().latest(thread, 1).get(0).position();
        String cursor = null;
        long seen = 0;
        while (seen < depth / 2) {
            int limit = (int) Math.min(100, depth / 2 - seen);
            Page<Message> page = parley.messages().page(thread, new PageRequest(limit, cursor), SortOrder.ASC);
            seen += page.items().size();
            cursor = page.nextCursor();
        }
        middlePositions.add(seen);
        return cursor;
    }
}
