package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import com.zaxxer.hikari.HikariDataSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs pending for the ledger's hourly rows: reports count them before they are folded as after, each
 * run is folded once however many fold at the same time, and a hard delete keeps their usage.
 */
abstract class UsageFoldingBehaviour {
    private static final Instant HOUR = Instant.parse("2026-03-01T10:00:00Z");

    abstract TestDatabase db();

    JdbiChatStore store;

    @BeforeEach
    void freshStore() {
        store = (JdbiChatStore) db().freshStore();
        store.folding().close(); // no fold but the test's own (its timer would fold every second meanwhile)
        store.folding().foldPending(); // nothing left from before
    }

    /** A run of a new thread of {@code owner}, ended at {@code end} through the store; its thread's id. */
    private ThreadId endedRun(String owner, String agent, String model, Instant end, BigDecimal cost) {
        return endRun(owner, agent, model, end, cost).threadId();
    }

    /** A run of a new thread of {@code owner}, ended at {@code end} through the store. */
    private Run endRun(String owner, String agent, String model, Instant end, BigDecimal cost) {
        ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), owner, agent, null, null, end.minusSeconds(60));
        store.threads().insert(thread);
        var question = store.messages().append(JdbcStoreBehaviour.userMessage(thread.id(), "q"));
        Run run = Run.queued(RunId.next(JdbcStoreBehaviour.IDS), thread.id(), agent, model, question.id(), end.minusSeconds(60));
        store.runs().insert(run);
        Run going = run.started(end.minusSeconds(30));
        assertThat(store.runs().start(going, "server-a", end.plusSeconds(60))).isTrue();
        Run done = going.completed(end, new MessageId("msg_" + run.id().value().substring(4)), Usage.reported(10, 3), cost);
        assertThat(store.runs().update(done, RunStatus.IN_PROGRESS)).isTrue();
        return done;
    }

    /** Every report of {@code owner} (and of everyone) over the day. */
    private Map<UsageGroup, List<UsageRow>> reports(String owner) {
        Map<UsageGroup, List<UsageRow>> all = new EnumMap<>(UsageGroup.class);
        for (UsageGroup group : UsageGroup.values()) {
            all.put(group, store.usage().usage(group == UsageGroup.USER ? null : owner, HOUR.minus(10, ChronoUnit.HOURS),
                    HOUR.plus(14, ChronoUnit.HOURS), group));
        }
        return all;
    }

    private long pendingRuns() {
        return db().queryLong("SELECT count(*) FROM parley_runs WHERE ledger_pending = TRUE");
    }

    @Test
    void should_let_a_fold_under_way_finish_before_the_store_closes() throws Exception {
        // given: a store whose timed fold waits for its connection until the test lets it go
        CountDownLatch foldWaits = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean foldInterrupted = new AtomicBoolean();
        ExecutorService closer = Executors.newSingleThreadExecutor();
        try (HikariDataSource pool = new HikariDataSource()) {
            pool.setJdbcUrl(db().url());
            DataSource gated = (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("getConnection") && Thread.currentThread().getName().equals("parley-usage-folding")
                                && foldWaits.getCount() > 0) {
                            foldWaits.countDown();
                            try {
                                release.await();
                            } catch (InterruptedException e) {
                                foldInterrupted.set(true);
                                throw new SQLException("interrupted", e);
                            }
                        }
                        try {
                            return method.invoke(pool, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            JdbcChatStore gatedStore = JdbcChatStores.builder().dataSource(gated).build();
            assertThat(foldWaits.await(10, TimeUnit.SECONDS)).isTrue();

            // when: the store closes while its fold waits
            Future<?> closing = closer.submit(() -> gatedStore.close());

            // then: the close waits for the fold, which goes on uninterrupted once let go
            assertThatThrownBy(() -> closing.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            release.countDown();
            closing.get(10, TimeUnit.SECONDS);
            assertThat(foldInterrupted).isFalse();
        } finally {
            release.countDown();
            closer.shutdownNow();
        }
    }

    @Test
    void should_report_the_same_usage_before_and_after_the_pending_runs_are_folded() {
        // given: runs over two hours, two agents, two models, priced and not
        endedRun("alice", "helper", "gpt", HOUR.plusSeconds(100), new BigDecimal("0.25"));
        endedRun("alice", "helper", "gpt", HOUR.plusSeconds(200), new BigDecimal("0.5"));
        endedRun("alice", "coder", "llama", HOUR.plusSeconds(3_700), null);
        endedRun("bob", "helper", "gpt", HOUR.plusSeconds(300), new BigDecimal("1"));
        Map<UsageGroup, List<UsageRow>> pending = reports("alice");

        // when
        int folded = store.folding().foldPending();

        // then
        assertThat(folded).isEqualTo(4);
        assertThat(pendingRuns()).isZero();
        assertThat(reports("alice")).isEqualTo(pending);
        assertThat(pending.get(UsageGroup.AGENT)).extracting(UsageRow::group).containsExactly("coder", "helper");
        assertThat(pending.get(UsageGroup.USER)).extracting(r -> r.totals().runs()).containsExactly(3L, 1L);
        assertThat(store.folding().foldPending()).isZero();
    }

    @Test
    void should_keep_the_pending_runs_of_a_failed_fold_for_the_next_one() throws Exception {
        // given: a pending run, and a ledger table the fold cannot write (as while the database is away)
        endedRun("alice", "helper", "gpt", HOUR.plusSeconds(100), new BigDecimal("0.25"));
        Map<UsageGroup, List<UsageRow>> pending = reports("alice");
        execute("ALTER TABLE parley_usage_hourly RENAME TO parley_usage_hourly_away");
        try {
            // when
            int failed = store.folding().foldPending();
            int failedAgain = store.folding().foldPending();

            // then: nothing folded, nothing lost, both failures counted (only the first is logged as a warning)
            assertThat(failed + failedAgain).isZero();
            assertThat(store.folding().failuresInARow()).isEqualTo(2);
            assertThat(pendingRuns()).isEqualTo(1);
        } finally {
            execute("ALTER TABLE parley_usage_hourly_away RENAME TO parley_usage_hourly");
        }

        // and when the table is back
        assertThat(store.folding().foldPending()).isEqualTo(1);
        assertThat(store.folding().failuresInARow()).isZero();
        assertThat(pendingRuns()).isZero();
        assertThat(reports("alice")).isEqualTo(pending);
    }

    private void execute(String sql) throws SQLException {
        try (Connection c = db().connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Test
    void should_fold_each_pending_run_once_when_folds_run_at_the_same_time() throws Exception {
        // given: more pending runs than a batch, committed at once (the store's own fold runs every second)
        int runs = UsageFolding.BATCH + 100;
        store.inTransaction(() -> {
            for (int i = 0; i < runs; i++) {
                endedRun("alice", "helper", "gpt", HOUR.plusSeconds(i % 3_600), new BigDecimal("0.01"));
            }
        });

        // when: four folds at once, as four servers would (the store's own may join them)
        List<Integer> folded = JdbcStoreBehaviour.race(4, () -> store.folding().foldPending());

        // then: every run in the rows once (whichever fold, the store's own included, took it)
        assertThat(folded.stream().mapToInt(Integer::intValue).sum()).isLessThanOrEqualTo(runs);
        assertThat(pendingRuns()).isZero();
        List<UsageRow> model = store.usage().usage("alice", HOUR, HOUR.plus(1, ChronoUnit.HOURS), UsageGroup.MODEL);
        assertThat(model).singleElement().satisfies(r -> {
            assertThat(r.totals().runs()).isEqualTo(runs);
            assertThat(r.totals().costUsd()).isEqualByComparingTo(new BigDecimal("0.01").multiply(BigDecimal.valueOf(runs)));
        });
        assertThat(store.usage().usage("alice", HOUR, HOUR.plus(1, ChronoUnit.HOURS), UsageGroup.THREAD)).hasSize(runs);
    }

    @Test
    void should_keep_the_usage_of_a_pending_run_whose_thread_is_deleted() {
        // given
        ThreadId thread = endedRun("alice", "helper", "gpt", HOUR.plusSeconds(100), new BigDecimal("0.25"));

        // when
        assertThat(store.threads().hardDelete(thread)).isTrue();

        // then
        assertThat(pendingRuns()).isZero();
        assertThat(store.usage().usage("alice", HOUR, HOUR.plus(1, ChronoUnit.HOURS), UsageGroup.THREAD))
                .singleElement().satisfies(r -> {
                    assertThat(r.group()).isEqualTo(thread.value());
                    assertThat(r.totals().costUsd()).isEqualByComparingTo("0.25");
                });
    }

    @Test
    void should_keep_the_usage_of_a_pending_run_removed_with_its_message() {
        // given
        Run run = endRun("alice", "helper", "gpt", HOUR.plusSeconds(100), new BigDecimal("0.25"));

        // when: the question goes, and the run it started with it
        assertThat(store.messages().delete(run.userMessageId())).isPositive();

        // then
        assertThat(store.runs().find(run.id())).isEmpty();
        assertThat(pendingRuns()).isZero();
        assertThat(store.usage().usage("alice", HOUR, HOUR.plus(1, ChronoUnit.HOURS), UsageGroup.MODEL))
                .singleElement().satisfies(r -> assertThat(r.totals().costUsd()).isEqualByComparingTo("0.25"));
    }
}
