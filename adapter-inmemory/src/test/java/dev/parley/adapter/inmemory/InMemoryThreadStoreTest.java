package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.ThreadStoreContract;

class InMemoryThreadStoreTest extends ThreadStoreContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
