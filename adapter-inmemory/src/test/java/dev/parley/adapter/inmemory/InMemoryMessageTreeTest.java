package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.MessageTreeContract;

class InMemoryMessageTreeTest extends MessageTreeContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
