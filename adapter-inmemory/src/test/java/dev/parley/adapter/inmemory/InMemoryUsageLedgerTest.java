package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.UsageLedgerContract;

class InMemoryUsageLedgerTest extends UsageLedgerContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
