package dev.parley.adapter.jdbc;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.testkit.IdempotencyStoreContract;
import dev.parley.chat.testkit.MessageStoreContract;
import dev.parley.chat.testkit.RunEventBusContract;
import dev.parley.chat.testkit.RunEventStoreContract;
import dev.parley.chat.testkit.RunStoreContract;
import dev.parley.chat.testkit.ThreadStoreContract;
import dev.parley.chat.testkit.TransactionContract;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Every chat-testkit contract suite, on one Postgres database emptied before each test. */
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

    @Nested
    class Runs extends RunStoreContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }
    }

    @Nested
    class Events extends RunEventStoreContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }
    }

    @Nested
    class Idempotency extends IdempotencyStoreContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }
    }

    @Nested
    class Transactions extends TransactionContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }
    }

    /** The in-process bus of each server over the shared database's event log. */
    @Nested
    class EventBus extends RunEventBusContract {
        @Override
        protected ChatStore createStore() {
            return DB.freshStore();
        }

        @Override
        protected RunEventBus createBus(ChatStore sharedStore) {
            return InMemoryAdapters.eventBus(sharedStore.events());
        }
    }
}
