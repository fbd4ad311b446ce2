package dev.parley.adapter.jdbc;

import org.junit.jupiter.api.extension.RegisterExtension;

class H2UsageFoldingTest extends UsageFoldingBehaviour {
    @RegisterExtension
    static final TestDatabase DB = TestDatabase.h2();

    @Override
    TestDatabase db() {
        return DB;
    }
}
