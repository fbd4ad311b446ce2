package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/** Every chat-testkit contract suite, on one Postgres database emptied before each test. */
class PostgresContractTest extends JdbcContractSuites {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.postgres();

    @Override
    TestDatabase db() {
        return DB;
    }
}
