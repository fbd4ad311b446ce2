package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresUsageFoldingTest extends UsageFoldingBehaviour {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();

    @Override
    TestDatabase db() {
        return DB;
    }
}
