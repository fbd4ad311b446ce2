package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.TrashContract;

class InMemoryTrashTest extends TrashContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
