package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.ServerLivenessContract;

/** The in-memory store cannot tell live servers from gone ones: its runs end by their leases. */
class InMemoryServerLivenessTest extends ServerLivenessContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
