package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.IdempotencyStoreContract;

class InMemoryIdempotencyStoreTest extends IdempotencyStoreContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
