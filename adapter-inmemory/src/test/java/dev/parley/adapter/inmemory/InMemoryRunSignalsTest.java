package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.RunSignalsContract;

class InMemoryRunSignalsTest extends RunSignalsContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
