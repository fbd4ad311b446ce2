package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.RunCompletionContract;

class InMemoryRunCompletionTest extends RunCompletionContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
