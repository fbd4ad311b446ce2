package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.MessageStoreContract;

class InMemoryMessageStoreTest extends MessageStoreContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
