package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class H2UsageLedgerRaceTest extends UsageLedgerRace {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.h2();

    @Override
    TestDatabase db() {
        return DB;
    }
}
