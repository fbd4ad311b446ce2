package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.RunStepContract;

class InMemoryRunStepTest extends RunStepContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
