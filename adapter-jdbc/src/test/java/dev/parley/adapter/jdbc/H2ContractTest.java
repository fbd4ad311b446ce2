package dev.parley.adapter.jdbc;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.MessageStoreContract;
import dev.parley.chat.testkit.ThreadStoreContract;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every chat-testkit store contract, on one H2 database emptied before each test. */
class H2ContractTest {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.h2();

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
