package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class H2AgentSeedRaceTest extends AgentSeedRace {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.h2();

    @Override
    TestDatabase db() {
        return DB;
    }
}
