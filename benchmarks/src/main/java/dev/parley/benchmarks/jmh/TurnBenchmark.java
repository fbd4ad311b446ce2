package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Persistence throughput: whole turns through the core ({@code ChatService.send} then
 * {@code await}): the user message and a run stored in one transaction, the run started, the
 * history window read, a step, three tokens and {@code run_started}/{@code done} events (persisted by
 * the event bus in batches), the assistant message and the completed run stored. Each benchmark
 * thread talks as a user of its own, with the cost-free model, starting a new chat thread every 50 turns.
 * {@code api}: {@code sendAndAwait} (the synchronous caller's call; the run executes on the caller's
 * thread) or {@code send+await} (the run executes on a run thread the caller waits for).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TurnBenchmark {
    private static final AtomicInteger USERS = new AtomicInteger();

    @Param({"memory", "h2", "postgres"})
    public String store;

    @Param({"sendAndAwait"})
    public String api;

    private Databases.Database db;
    private Fixtures.Wired wired;
    /** Moves on with every fresh wiring, so that conversations start new threads on it. */
    private volatile int generation;

    @Setup(Level.Trial)
    public void setUp() {
        db = Databases.open(Databases.Kind.parse(store), 10);
        wired = Fixtures.wire(db.chatStore());
    }

    /**
     * The in-memory store keeps every turn in the heap: rewired with an empty one before each
     * iteration, so that the figure is the core's and not a garbage collector's walking an ever
     * larger heap (the SQL stores keep theirs outside the heap).
     */
    @Setup(Level.Iteration)
    public void freshInMemoryStore() {
        if (db.kind() != Databases.Kind.MEMORY || generation++ == 0) {
            return;
        }
        wired.close();
        db.close();
        db = Databases.open(Databases.Kind.MEMORY, 10);
        wired = Fixtures.wire(db.chatStore());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wired.close();
        db.close();
    }

    /**
     * One benchmark thread's user and its current chat thread, replaced by a new one every
     * {@link #TURNS_PER_THREAD} turns: conversations of realistic length (long ones are the history
     * benchmark's subject).
     */
    @State(Scope.Thread)
    public static class Conversation {
        static final int TURNS_PER_THREAD = 50;
        String user;
        ThreadId thread;
        int turns;
        int generation = -1;

        @Setup(Level.Trial)
        public void setUp() {
            user = "turns-" + USERS.incrementAndGet();
        }

        ThreadId thread(TurnBenchmark bench) {
            if (generation != bench.generation) {
                generation = bench.generation;
                thread = null;
            }
            if (thread == null || turns++ % TURNS_PER_THREAD == 0) {
                thread = bench.wired.chat().createThread(new CreateThreadCommand(user, null, null, null)).id();
            }
            return thread;
        }
    }

    @Benchmark
    public RunOutcome turn(Conversation c) throws InterruptedException {
        return api.equals("send+await") ? Fixtures.sendThenAwait(wired.chat(), c.user, c.thread(this))
                : Fixtures.turn(wired.chat(), c.user, c.thread(this));
    }
}
