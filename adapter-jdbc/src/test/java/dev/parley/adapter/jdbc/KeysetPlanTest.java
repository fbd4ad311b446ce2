package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    private static List<String> pageQueries(JdbcChatStore store) {
        JdbiThreadStore threads = (JdbiThreadStore) store.threads();
        JdbiMessageStore messages = (JdbiMessageStore) store.messages();
        JdbiRunStore runs = (JdbiRunStore) store.runs();
        JdbiRunEventStore events = (JdbiRunEventStore) store.events();
        List<String> queries = new ArrayList<>(List.of(threads.list));
        queries.addAll(List.of(messages.pageAsc, messages.pageAscAfter, messages.pageDesc, messages.pageDescBefore,
                runs.page, runs.pageAfter, runs.withStatus, events.read, events.lastSeq));
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
                    .bind("status", "queued").bind("run", "run_1");
            return String.join("\n", q.mapTo(String.class).list());
        }
    }
}
