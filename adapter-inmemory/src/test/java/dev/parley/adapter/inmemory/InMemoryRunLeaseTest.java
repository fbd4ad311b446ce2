package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.RunLeaseContract;

class InMemoryRunLeaseTest extends RunLeaseContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
