package dev.parley.adapter.jdbc;

import dev.parley.testsupport.TestPostgres;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL specifics: appends never touch earlier rows; hints reach every store on the database's schema; outages become
 * StorageUnavailableException and heal.
 */
class PostgresStorageTest {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();

    private JdbcChatStore store;

    @BeforeEach
    void freshStore() {
        store = DB.freshStore();
    }

    @Test
    void should_never_rewrite_earlier_messages_when_appending() throws SQLException {
        // given
        ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), "alice", "agent", null, Map.of(),
                JdbcStoreBehaviour.now());
        store.threads().insert(thread);
        Message first = store.messages().append(JdbcStoreBehaviour.userMessage(thread.id(), "first"));
        String versionBefore = rowVersion(first);

        // when
        for (int i = 0; i < 50; i++) {
            store.messages().append(JdbcStoreBehaviour.userMessage(thread.id(), "more " + i));
        }

        // then: the first row is the very tuple that was written (same transaction id, same place)
        assertThat(rowVersion(first)).isEqualTo(versionBefore);
        assertThat(store.messages().count(thread.id())).isEqualTo(51);
    }

    @Test
    void should_hint_every_other_store_on_the_database_and_its_own_listeners_once() throws Exception {
        // given: two servers' stores on one database, each with a listener
        try (JdbcChatStore other = JdbcChatStores.builder().url(DB.url()).maxPoolSize(2).build()) {
            BlockingQueue<RunId> heardHere = new LinkedBlockingQueue<>();
            BlockingQueue<RunId> heardThere = new LinkedBlockingQueue<>();
            RunSignals.Registration here = store.signals().onRunChanged(heardHere::add);
            RunSignals.Registration there = other.signals().onRunChanged(heardThere::add);
            Message question = aThreadWithAQuestion();
            Run run = aQueuedRun(question);
            Run endedThere = aQueuedRun(question);

            // when: this store ends the run in a transaction
            store.inTransaction(() -> store.runs().update(run.cancelled(JdbcStoreBehaviour.now(), null, Usage.ZERO, null),
                    RunStatus.QUEUED));

            // then: the other store hears it through the database, this one at once
            assertThat(heardThere.poll(10, TimeUnit.SECONDS)).isEqualTo(run.id());
            assertThat(heardHere.poll(10, TimeUnit.SECONDS)).isEqualTo(run.id());

            // and when the other store ends a run after it
            other.runs().update(endedThere.cancelled(JdbcStoreBehaviour.now(), null, Usage.ZERO, null), RunStatus.QUEUED);

            // then this store hears that one next: its listening connection reads notifications in commit order, so
            // the echo of its own change, had it been passed on, would have come first
            assertThat(heardHere.poll(10, TimeUnit.SECONDS)).isEqualTo(endedThere.id());
            here.close();
            there.close();
        }
    }

    @Test
    void should_send_no_hint_for_a_transaction_that_rolled_back() throws Exception {
        // given
        try (JdbcChatStore other = JdbcChatStores.builder().url(DB.url()).maxPoolSize(2).build()) {
            BlockingQueue<RunId> heard = new LinkedBlockingQueue<>();
            RunSignals.Registration registration = other.signals().onRunChanged(heard::add);
            Message question = aThreadWithAQuestion();
            Run rolledBack = aQueuedRun(question);
            Run committed = aQueuedRun(question);

            // when
            assertThatThrownBy(() -> store.inTransaction(() -> {
                store.runs().update(rolledBack.cancelled(JdbcStoreBehaviour.now(), null, Usage.ZERO, null), RunStatus.QUEUED);
                throw new IllegalStateException("rolled back");
            })).hasMessage("rolled back");
            store.runs().update(committed.cancelled(JdbcStoreBehaviour.now(), null, Usage.ZERO, null), RunStatus.QUEUED);

            // then: the hint of the committed change arrives, and none came for the rolled-back one
            assertThat(heard.poll(10, TimeUnit.SECONDS)).isEqualTo(committed.id());
            assertThat(heard).doesNotContain(rolledBack.id());
            registration.close();
        }
    }

    @Test
    void should_keep_hints_among_the_stores_of_one_schema() throws Exception {
        // given: a second server on this store's schema, and two servers of another deployment in another schema of
        // the same database, one of them listening
        String schema = "parley_other_" + Long.toHexString(System.nanoTime());
        try (JdbcChatStore sameSchema = JdbcChatStores.builder().url(DB.url()).maxPoolSize(2).build();
             JdbcChatStore elsewhere = JdbcChatStores.builder().url(DB.url()).schema(schema).maxPoolSize(2).build();
             JdbcChatStore elsewhereToo = JdbcChatStores.builder().url(DB.url()).schema(schema).maxPoolSize(2).build()) {
            BlockingQueue<RunId> heardOnSameSchema = new LinkedBlockingQueue<>();
            BlockingQueue<RunId> heardElsewhere = new LinkedBlockingQueue<>();
            RunSignals.Registration same = sameSchema.signals().onRunChanged(heardOnSameSchema::add);
            RunSignals.Registration other = elsewhere.signals().onRunChanged(heardElsewhere::add);
            Run here = aQueuedRun(store, aThreadWithAQuestion(store));
            Run there = aQueuedRun(elsewhereToo, aThreadWithAQuestion(elsewhereToo));

            // when: this store ends a run, and once that hint went out, the other deployment ends one of its own
            store.runs().update(here.cancelled(JdbcStoreBehaviour.now(), null, Usage.ZERO, null), RunStatus.QUEUED);
            assertThat(heardOnSameSchema.poll(10, TimeUnit.SECONDS)).isEqualTo(here.id());
            elsewhereToo.runs().update(there.cancelled(JdbcStoreBehaviour.now(), null, Usage.ZERO, null), RunStatus.QUEUED);

            // then: the other deployment hears its own run first (notifications reach a listener in commit order, so
            // this store's hint, had it crossed over, would have come before it)
            assertThat(heardElsewhere.poll(10, TimeUnit.SECONDS)).isEqualTo(there.id());
            assertThat(heardOnSameSchema).doesNotContain(there.id());
            same.close();
            other.close();
        } finally {
            try (Connection c = DB.connect(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
            }
        }
    }

    @Test
    void should_name_a_channel_per_schema_within_postgres_limit_and_plain_characters() {
        String longest = "s".repeat(63);
        String longestToo = "s".repeat(62) + "t";

        assertThat(PgRunSignals.channel(Db.Hint.RUN_CHANGED, null)).isEqualTo("parley_run_changed");
        assertThat(PgRunSignals.channel(Db.Hint.RUN_CHANGED, "public")).isEqualTo("parley_run_changed");
        assertThat(PgRunSignals.channel(Db.Hint.EVENTS_STORED, "tenant_a")).isEqualTo("parley_run_events.tenant_a");
        assertThat(PgRunSignals.channel(Db.Hint.RUN_CHANGED, "Tenant_A")).isNotEqualTo(PgRunSignals.channel(Db.Hint.RUN_CHANGED, "tenant_a"));
        assertThat(PgRunSignals.channel(Db.Hint.RUN_CHANGED, longest))
                .hasSizeLessThanOrEqualTo(PgRunSignals.MAX_CHANNEL_LENGTH)
                .startsWith("parley_run_changed#")
                .isNotEqualTo(PgRunSignals.channel(Db.Hint.RUN_CHANGED, longestToo));
        assertThat(PgRunSignals.channel(Db.Hint.RUN_CHANGED, "odd \"name\"")).matches("parley_run_changed#[0-9a-f]{24}");
    }

    /** A new thread of alice's holding one question. */
    private Message aThreadWithAQuestion() {
        return aThreadWithAQuestion(store);
    }

    private static Message aThreadWithAQuestion(JdbcChatStore in) {
        ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), "alice", "agent", null, Map.of(),
                JdbcStoreBehaviour.now());
        in.threads().insert(thread);
        return in.messages().append(JdbcStoreBehaviour.userMessage(thread.id(), "hi"));
    }

    /** A stored run queued for {@code question}. */
    private Run aQueuedRun(Message question) {
        return aQueuedRun(store, question);
    }

    private static Run aQueuedRun(JdbcChatStore in, Message question) {
        Run run = Run.queued(RunId.next(JdbcStoreBehaviour.IDS), question.threadId(), "agent", null, question.id(),
                JdbcStoreBehaviour.now());
        in.runs().insert(run);
        return run;
    }

    @Test
    void should_answer_storage_unavailable_while_the_database_is_away_and_recover_after() throws Exception {
        String base = TestPostgres.withParameter(TestPostgres.baseUrl(),
                "currentSchema=" + schemaOf(DB.url()));
        try (TcpProxy proxy = new TcpProxy(TestPostgres.host(base), TestPostgres.port(base)).start();
             JdbcChatStore viaProxy = JdbcChatStores.builder()
                     .url(TestPostgres.viaPort(base, proxy.port()))
                     .connectionTimeout(Duration.ofSeconds(1))
                     .maxPoolSize(2)
                     .build()) {
            // given
            ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), "alice", "agent", null, Map.of(),
                    JdbcStoreBehaviour.now());
            viaProxy.threads().insert(thread);

            // when
            proxy.stop();

            // then
            long start = System.nanoTime();
            assertThatThrownBy(() -> viaProxy.threads().find(thread.id()))
                    .isInstanceOf(StorageUnavailableException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContainIgnoringCase("select").doesNotContain("parley_"));
            assertThatThrownBy(viaProxy::ping).isInstanceOf(StorageUnavailableException.class);
            assertThatThrownBy(() -> viaProxy.inTransaction(() -> viaProxy.threads().lock(thread.id())))
                    .isInstanceOf(StorageUnavailableException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));

            // and when the database is back
            proxy.start();

            // then
            awaitPing(viaProxy, Duration.ofSeconds(30));
            assertThat(viaProxy.threads().find(thread.id())).contains(thread);
        }
    }

    @Test
    void should_refuse_to_open_on_a_port_where_nothing_listens() throws Exception {
        // given
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }

        // then
        assertThatThrownBy(() -> JdbcChatStores.builder()
                .url("jdbc:postgresql://127.0.0.1:" + closedPort + "/test?user=postgres")
                .connectionTimeout(Duration.ofMillis(500))
                .build())
                .isInstanceOf(StorageUnavailableException.class);
    }

    private static void awaitPing(JdbcChatStore store, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            try {
                store.ping();
                return;
            } catch (StorageUnavailableException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the store did not recover within " + patience, e);
                }
                LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            }
        }
    }

    private static String schemaOf(String url) {
        return url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
    }

    private static String rowVersion(Message message) throws SQLException {
        try (Connection c = DB.connect();
             PreparedStatement s = c.prepareStatement("SELECT xmin::text || '/' || ctid::text FROM parley_messages WHERE id = ?")) {
            s.setString(1, message.id().value());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
