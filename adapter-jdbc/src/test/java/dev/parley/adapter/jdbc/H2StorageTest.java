package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.model.ThreadId;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** H2 specifics: a database that is gone becomes StorageUnavailableException. */
class H2StorageTest {

    @Test
    void should_answer_storage_unavailable_once_the_database_is_shut_down() throws Exception {
        // given
        String url = "jdbc:h2:mem:gone_" + UUID.randomUUID().toString().substring(0, 8) + ";DB_CLOSE_DELAY=-1";
        try (Connection keeper = DriverManager.getConnection(url);
             JdbcChatStore store = JdbcChatStores.builder().url(url + ";IFEXISTS=TRUE")
                     .connectionTimeout(Duration.ofSeconds(1)).build()) {
            ChatThread thread = ChatThread.create(ThreadId.next(JdbcStoreBehaviour.IDS), "alice", "agent", null, Map.of(),
                    JdbcStoreBehaviour.now());
            store.threads().insert(thread);

            // when
            try (Statement s = keeper.createStatement()) {
                s.execute("SHUTDOWN");
            }

            // then
            assertThatThrownBy(() -> store.threads().find(thread.id()))
                    .isInstanceOf(StorageUnavailableException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContainIgnoringCase("select"));
            assertThatThrownBy(store::ping).isInstanceOf(StorageUnavailableException.class);
        }
    }

    @Test
    void should_refuse_a_database_that_is_not_there() {
        assertThatThrownBy(() -> JdbcChatStores.builder()
                .url("jdbc:h2:mem:never_" + UUID.randomUUID().toString().substring(0, 8) + ";IFEXISTS=TRUE")
                .connectionTimeout(Duration.ofMillis(500))
                .build())
                .isInstanceOf(StorageUnavailableException.class);
    }
}
