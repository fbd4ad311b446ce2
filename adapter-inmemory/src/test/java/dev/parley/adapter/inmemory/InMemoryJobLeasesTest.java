package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.testkit.JobLeasesContract;

class InMemoryJobLeasesTest extends JobLeasesContract {
    @Override
    protected ChatStore createStore() {
        return InMemoryAdapters.store();
    }
}
