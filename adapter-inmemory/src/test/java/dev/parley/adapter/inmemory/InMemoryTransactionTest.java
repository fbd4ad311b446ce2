package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.TransactionContract;

class InMemoryTransactionTest extends TransactionContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
