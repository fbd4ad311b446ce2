package dev.parley.chat.core;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.testkit.RunEventBusContract;
import org.junit.jupiter.api.Nested;

/** The bus's port contract over the in-memory store; the JDBC tests run it over H2 and PostgreSQL. */
class StoreBackedRunEventBusContractTest {

    /** Readers of runs published elsewhere poll the store. */
    @Nested
    class Polling extends RunEventBusContract {
        @Override
        protected ChatStore createStore() {
            return InMemoryAdapters.store();
        }

        @Override
        protected RunEventBus createBus(ChatStore sharedStore) {
            return RunEventBuses.create(sharedStore.events(), RunSignals.none());
        }
    }

    /** As {@link ChatService} wires it by default: woken by the store's hints, polling as a fallback. */
    @Nested
    class WithSignals extends RunEventBusContract {
        @Override
        protected ChatStore createStore() {
            return InMemoryAdapters.store();
        }

        @Override
        protected RunEventBus createBus(ChatStore sharedStore) {
            return RunEventBuses.create(sharedStore);
        }
    }
}
