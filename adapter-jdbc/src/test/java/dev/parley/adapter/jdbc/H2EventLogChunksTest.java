package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class H2EventLogChunksTest extends EventLogChunksBehaviour {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.h2();

    @Override
    TestDatabase db() {
        return DB;
    }
}
