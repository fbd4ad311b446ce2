package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
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
 * The cost of one page (20 agents) of what a user sees in {@code GET /api/v1/agents} when the store
 * holds {@code agents} agents: two fifths shared, two fifths the viewer's own private ones, one
 * fifth other users' private ones (never listed). The first page, and a page in the middle of the
 * viewer's list reached by its cursor (keyset paging: it should cost the same).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AgentListBenchmark {
    private static final String VIEWER = "lister";

    @Param({"h2", "postgres"})
    public String store;

    @Param({"10000"})
    public int agents;

    private Databases.Database db;
    private ChatStore parley;
    private String middle;

    @Setup(Level.Trial)
    public void setUp() {
        db = Databases.open(Databases.Kind.parse(store), 10);
        parley = db.chatStore();
        Instant now = Instant.now();
        for (int done = 0; done < agents; ) {
            int batch = Math.min(1000, agents - done);
            int from = done;
            parley.inTransaction(() -> {
                for (int i = from; i < from + batch; i++) {
                    int kind = i % 5; // 0, 1: shared; 2, 3: the viewer's own; 4: someone else's
                    String owner = kind <= 1 ? "admin" : kind <= 3 ? VIEWER : "other" + (i % 97);
                    AgentVisibility visibility = kind <= 1 ? AgentVisibility.SHARED : AgentVisibility.PRIVATE;
                    AgentDefinition definition = new AgentDefinition("Agent " + i, "Benchmark agent number " + i,
                            "You are agent {{agent_name}}. Answer {{user_id}} briefly.", null, null, null, null, visibility, null);
                    parley.agents().create(StoredAgent.create(Fixtures.IDS.next(StoredAgent.ID_PREFIX), owner, definition, now));
                }
            });
            done += batch;
        }
        String cursor = null;
        int visible = agents * 4 / 5;
        for (int seen = 0; seen < visible / 2; seen += PageRequest.MAX_LIMIT) {
            Page<StoredAgent> page = parley.agents().list(VIEWER, AgentStatus.ACTIVE, new PageRequest(PageRequest.MAX_LIMIT, cursor));
            cursor = page.nextCursor();
        }
        middle = cursor;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        db.close();
    }

    @Benchmark
    public Page<StoredAgent> firstPage() {
        return parley.agents().list(VIEWER, AgentStatus.ACTIVE, PageRequest.first(PageRequest.DEFAULT_LIMIT));
    }

    @Benchmark
    public Page<StoredAgent> middlePage() {
        return parley.agents().list(VIEWER, AgentStatus.ACTIVE, new PageRequest(PageRequest.DEFAULT_LIMIT, middle));
    }
}
