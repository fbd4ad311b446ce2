package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresEventLogChunksTest extends EventLogChunksBehaviour {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();

    @Override
    TestDatabase db() {
        return DB;
    }
}
