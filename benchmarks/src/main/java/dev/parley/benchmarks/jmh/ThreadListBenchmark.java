package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ChatStore;
import java.time.Instant;
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
 * The cost of one page (20 threads) of a user's thread list when the user has {@code threads}
 * threads: the first page, and a page in the middle reached by its cursor (keyset paging: it
 * should cost the same).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ThreadListBenchmark {
    private static final String OWNER = "lister";

    @Param({"h2", "postgres"})
    public String store;

    @Param({"100000"})
    public int threads;

    private Databases.Database db;
    private ChatStore parley;
    private String middle;

    @Setup(Level.Trial)
    public void setUp() {
        db = Databases.open(Databases.Kind.parse(store), 10);
        parley = db.chatStore();
        Instant base = Instant.now().minusSeconds(threads);
        for (int done = 0; done < threads; ) {
            int batch = Math.min(1000, threads - done);
            int from = done;
            parley.inTransaction(() -> {
                for (int i = from; i < from + batch; i++) {
                    parley.threads().insert(ChatThread.create(ThreadId.next(Fixtures.IDS), OWNER, Fixtures.AGENT, "thread " + i,
                            null, base.plusMillis(i * 1000L)));
                }
            });
            done += batch;
        }
        String cursor = null;
        for (int seen = 0; seen < threads / 2; seen += PageRequest.MAX_LIMIT) {
            Page<ChatThread> page = parley.threads().list(OWNER, null, new PageRequest(PageRequest.MAX_LIMIT, cursor));
            cursor = page.nextCursor();
        }
        middle = cursor;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        db.close();
    }

    @Benchmark
    public Page<ChatThread> firstPage() {
        return parley.threads().list(OWNER, null, PageRequest.first(PageRequest.DEFAULT_LIMIT));
    }

    @Benchmark
    public Page<ChatThread> middlePage() {
        return parley.threads().list(OWNER, null, new PageRequest(PageRequest.DEFAULT_LIMIT, middle));
    }
}
