package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.RunStoreContract;

class InMemoryRunStoreTest extends RunStoreContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
