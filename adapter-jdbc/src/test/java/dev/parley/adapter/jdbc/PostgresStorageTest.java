package dev.parley.adapter.jdbc;

import dev.parley.testsupport.TestPostgres;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** PostgreSQL specifics: appends never touch earlier rows; outages become StorageUnavailableException and heal. */
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
