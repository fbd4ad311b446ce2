package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.RunEventStoreContract;

class InMemoryRunEventStoreTest extends RunEventStoreContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
