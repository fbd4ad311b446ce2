package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

/** Every chat-testkit contract suite, on one H2 database emptied before each test. */
class H2ContractTest extends JdbcContractSuites {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.h2();

    @Override
    TestDatabase db() {
        return DB;
    }
}
