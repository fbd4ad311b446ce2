package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.CachedTokensContract;

class InMemoryCachedTokensTest extends CachedTokensContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
