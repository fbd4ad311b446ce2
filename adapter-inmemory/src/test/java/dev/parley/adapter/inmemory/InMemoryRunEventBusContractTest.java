package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.testkit.RunEventBusContract;

class InMemoryRunEventBusContractTest extends RunEventBusContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }

    @Override
    protected RunEventBus createBus(ChatStore sharedStore) {
        return InMemoryAdapters.eventBus(sharedStore.events());
    }
}
