package dev.parley.adapter.jdbc;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.MessageStoreContract;
import dev.parley.chat.testkit.ThreadStoreContract;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every chat-testkit store contract, on one Postgres database emptied before each test. */
class PostgresContractTest {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();

    @Nested
    class Threads extends ThreadStoreContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }
    }

    @Nested
    class Messages extends MessageStoreContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }
    }
}
