package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ThreadId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.SqlStatements;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every page query walks an index in the order it returns rows and stops after the page, so that a
 * deep page costs what the first one costs: no sort, no scan of the rows before the cursor.
 */
class KeysetPlanTest {
    @RegisterExtension
    static final TestDatabase H2 = TestDatabase.h2();
    @RegisterExtension
    static final TestDatabase PG = TestDatabase.postgres();

    @Test
    void should_read_every_page_off_an_index_in_order_on_postgresql() {
        // given: a planner that takes any usable index over a scan
        for (String sql : pageQueries(PG.store())) {
            // when
            String plan = explain(PG, sql, "SET enable_seqscan = off");

            // then
            assertThat(plan).as(sql).contains("Index").doesNotContain("Sort").doesNotContain("Seq Scan");
        }
    }

    @Test
    void should_read_every_page_off_an_index_in_order_on_h2() {
        for (String sql : pageQueries(H2.store())) {
            // when
            String plan = explain(H2, sql, null);

            // then
            assertThat(plan).as(sql).contains("index sorted").doesNotContainIgnoringCase("tableScan");
        }
    }

    @Test
    void should_read_no_more_rows_than_a_page_holds_on_h2_however_long_the_thread() {
        // given: 600 threads of one owner, one of them with 600 messages, 300 runs and a run with 600 events
        JdbcChatStore store = H2.freshStore();
        IdGenerator ids = IdGenerator.timeOrdered();
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        ThreadId longThread = ThreadId.next(ids);
        RunId run = RunId.next(ids);
        AtomicReference<String> branch = new AtomicReference<>();
        store.inTransaction(() -> {
            for (int i = 0; i < LONG; i++) {
                store.threads().insert(ChatThread.create(i == 0 ? longThread : ThreadId.next(ids), "alice", "assistant",
                        null, null, t0.plusSeconds(i)));
            }
            for (int i = 0; i < LONG; i++) {
                Message m = store.messages().append(JdbcStoreBehaviour.userMessage(longThread, "m" + i));
                if (i == 0) {
                    branch.set(m.id().value());
                }
            }
            for (int i = 0; i < LONG / 2; i++) {
                store.runs().insert(Run.queued(i == 0 ? run : RunId.next(ids), longThread, "assistant", null,
                        MessageId.next(ids), t0.plusSeconds(i)));
            }
            List<RunEvent> events = new ArrayList<>();
            for (int seq = 1; seq <= LONG; seq++) {
                events.add(new RunEvent.Token(run, seq, "t"));
            }
            for (int i = 0; i < events.size(); i += 3) {
                store.events().append(events.subList(i, i + 3)); // flushes of 3, as a run streams: 200 chunks
            }
        });
        JdbiThreadStore threads = (JdbiThreadStore) store.threads();
        JdbiMessageStore messages = (JdbiMessageStore) store.messages();
        JdbiRunStore runs = (JdbiRunStore) store.runs();
        JdbiRunEventStore events = (JdbiRunEventStore) store.events();
        Map<String, Object> first = Map.of("owner", "alice", "thread", longThread.value(), "run", run.value(),
                "limit", PAGE, "after", 0L, "status", "queued", "upto", (long) PAGE);
        Map<String, Object> oldest = Map.of("branch", branch.get(), "limit", PAGE, "lo", 0L, "hi", (long) LONG);
        Map<String, Object> deepPiece = Map.of("branch", branch.get(), "limit", PAGE, "lo", LONG / 3L, "hi", (long) LONG);
        Map<String, Object> newestPiece = Map.of("branch", branch.get(), "limit", PAGE, "lo", 1L, "hi", LONG + 1L);
        Map<String, Object> deep = Map.of("owner", "alice", "thread", longThread.value(), "run", run.value(),
                "limit", PAGE, "after", LONG / 3L, "after_at", t0.plusSeconds(LONG / 5), "after_id", "thr_",
                "upto", LONG / 3L + PAGE);

        for (var query : List.of(
                Map.entry(threads.list[0], first), Map.entry(threads.list[2], deep),
                Map.entry(messages.pieceAsc, oldest), Map.entry(messages.pieceAsc, deepPiece),
                Map.entry(messages.pieceDesc, newestPiece), Map.entry(messages.pieceDesc, deepPiece),
                Map.entry(runs.page, first), Map.entry(runs.pageAfter, deep), Map.entry(runs.withStatus, first),
                Map.entry(events.readChunks.get(0), first), Map.entry(events.readChunks.get(0), deep),
                Map.entry(events.readChunks.get(1), first), Map.entry(events.readChunks.get(1), deep),
                Map.entry(events.lastChunk, first))) {
            // when
            String plan = explainAnalyze(query.getKey(), query.getValue());

            // then: H2 counts the rows each table access read; none reads past the page
            assertThat(maxScanCount(plan)).as(plan).isLessThanOrEqualTo(PAGE + 1);
        }
    }

    @Test
    void should_read_no_more_rows_than_its_page_for_agents_and_versions_on_h2_however_many_there_are() {
        // given: 600 agents, two fifths shared, two fifths the viewer's own, one fifth other users' private ones,
        JdbcChatStore store = H2.freshStore();
        IdGenerator ids = IdGenerator.timeOrdered();
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        List<String> created = new ArrayList<>();
        store.inTransaction(() -> {
            for (int i = 0; i < LONG; i++) {
                int kind = i % 5;
                String owner = kind <= 1 ? "admin" : kind <= 3 ? "viewer" : "other";
                AgentVisibility visibility = kind <= 1 ? AgentVisibility.SHARED : AgentVisibility.PRIVATE;
                AgentDefinition definition = new AgentDefinition("Agent " + i, null, "Answer briefly.", null, null, null, null,
                        visibility, null, null, null);
                StoredAgent agent = StoredAgent.create(ids.next(StoredAgent.ID_PREFIX), owner, definition, t0.plusSeconds(i));
                store.agents().create(agent);
                created.add(agent.id());
            }
        });
        // and one of them in 600 versions
        String edited = created.get(0);
        store.inTransaction(() -> {
            StoredAgent agent = store.agents().find(edited).orElseThrow();
            for (int v = 2; v <= LONG; v++) {
                agent = agent.nextVersion(agent.definition(), t0.plusSeconds(LONG + v));
                store.agents().addVersion(agent);
            }
        });
        JdbiAgentStore agents = (JdbiAgentStore) store.agents();
        Map<String, Object> first = Map.of("viewer", "viewer", "status", "active", "limit", PAGE, "id", edited);
        Map<String, Object> deep = Map.of("viewer", "viewer", "status", "active", "limit", PAGE, "after", created.get(LONG / 2),
                "id", edited, "below", LONG / 2);

        for (var query : List.of(Map.entry(agents.list[0], first), Map.entry(agents.list[1], first),
                Map.entry(agents.list[2], deep), Map.entry(agents.list[3], deep),
                Map.entry(agents.versions[0], first), Map.entry(agents.versions[1], deep))) {
            // when
            String plan = explainAnalyze(query.getKey(), query.getValue());

            // then: each half (shared, own) reads its page off its index, and each of the two pages' agents is looked up
            // with its version, never the 240 agents of a half; a page of versions reads the page, not the 600 versions
            assertThat(maxScanCount(plan)).as(plan).isLessThanOrEqualTo(4 * (PAGE + 1));
        }
    }

    private static final int LONG = 600;
    private static final int PAGE = 21;

    private static String explainAnalyze(String sql, Map<String, Object> binds) {
        try (Handle h = Jdbi.create(H2::connect).open()) {
            Query q = h.createQuery("EXPLAIN ANALYZE " + sql);
            q.getConfig(SqlStatements.class).setUnusedBindingAllowed(true);
            binds.forEach(q::bind);
            return String.join("\n", q.mapTo(String.class).list());
        }
    }

    private static int maxScanCount(String plan) {
        Matcher m = Pattern.compile("scanCount: (\\d+)").matcher(plan);
        int max = -1;
        while (m.find()) {
            max = Math.max(max, Integer.parseInt(m.group(1)));
        }
        assertThat(max).as("scan counts in %s", plan).isNotNegative();
        return max;
    }

    private static List<String> pageQueries(JdbcChatStore store) {
        JdbiThreadStore threads = (JdbiThreadStore) store.threads();
        JdbiMessageStore messages = (JdbiMessageStore) store.messages();
        JdbiRunStore runs = (JdbiRunStore) store.runs();
        JdbiRunEventStore events = (JdbiRunEventStore) store.events();
        List<String> queries = new ArrayList<>(List.of(threads.list));
        queries.addAll(List.of(messages.pieceAsc, messages.pieceDesc,
                runs.page, runs.pageAfter, runs.withStatus, events.lastChunk));
        queries.addAll(events.readChunks);
        if (messages.newestOnPath != null) {
            queries.add(messages.newestOnPath);
        }
        return queries;
    }

    private static String explain(TestDatabase db, String sql, String setting) {
        try (Handle h = Jdbi.create(db::connect).open()) {
            if (setting != null) {
                h.execute(setting);
            }
            Query q = h.createQuery("EXPLAIN " + sql);
            q.getConfig(SqlStatements.class).setUnusedBindingAllowed(true);
            q.bind("owner", "alice").bind("agent", "assistant").bind("after_at", Instant.parse("2026-01-01T00:00:00Z"))
                    .bind("after_id", "thr_1").bind("limit", 21).bind("thread", "thr_1").bind("after", 5L)
                    .bind("status", "queued").bind("run", "run_1").bind("upto", 26L)
                    .bind("branch", "msg_1").bind("lo", 5L).bind("hi", 50L);
            return String.join("\n", q.mapTo(String.class).list());
        }
    }
}
