package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresUsageLedgerRaceTest extends UsageLedgerRace {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();

    @Override
    TestDatabase db() {
        return DB;
    }
}
