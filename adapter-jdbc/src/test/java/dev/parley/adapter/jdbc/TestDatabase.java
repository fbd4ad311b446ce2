package dev.parley.adapter.jdbc;

import dev.parley.testsupport.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A database of its own for one test class: a uniquely named H2 in-memory database, or a fresh
 * PostgreSQL schema (dropped afterwards) on the tests' server ({@link TestPostgres}). Register it as a static extension;
 * {@link #freshStore()} empties every table and returns the class's store.
 */
final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
    /** Every Parley table, children first. */
    static final List<String> TABLES = List.of("parley_run_event_chunks", "parley_run_events", "parley_steps", "parley_idempotency_keys",
            "parley_runs", "parley_messages", "parley_branches", "parley_threads", "parley_agent_versions", "parley_agents",
            "parley_usage_hourly", "parley_usage_thread_hourly", "parley_job_leases", "parley_user_run_locks");
    /** Tables of PostgreSQL alone. */
    static final List<String> POSTGRESQL_TABLES = List.of("parley_servers");
    /** PostgreSQL's SQLSTATE of a transaction ended to break a deadlock. */
    private static final String DEADLOCK = "40P01";

    enum Vendor { H2, POSTGRESQL }

    private final Vendor vendor;
    /** How many test containers (the class and its nested classes) are open. */
    private int open;
    private String url;
    private TestPostgres.Schema schema;
    private JdbcChatStore store;

    private TestDatabase(Vendor vendor) {
        this.vendor = vendor;
    }

    static TestDatabase h2() {
        return new TestDatabase(Vendor.H2);
    }

    static TestDatabase postgres() {
        return new TestDatabase(Vendor.POSTGRESQL);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws SQLException {
        if (open++ > 0) {
            return;
        }
        if (vendor == Vendor.H2) {
            url = "jdbc:h2:mem:" + context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT) + "_"
                    + UUID.randomUUID().toString().substring(0, 8) + ";DB_CLOSE_DELAY=-1";
        } else {
            schema = TestPostgres.freshSchema(context.getRequiredTestClass().getSimpleName());
            url = schema.url();
        }
        store = JdbcChatStores.builder().url(url).maxPoolSize(8).build();
    }

    @Override
    public void afterAll(ExtensionContext context) throws SQLException {
        if (--open > 0) {
            return;
        }
        if (store != null) {
            store.close();
        }
        if (vendor == Vendor.H2) {
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("SHUTDOWN");
            }
        } else {
            schema.close();
        }
    }

    Vendor vendor() {
        return vendor;
    }

    /** The JDBC URL of this class's database (schema included). */
    String url() {
        return url;
    }

    /** The class's store. */
    JdbcChatStore store() {
        return store;
    }

    /**
     * The class's store, with every table emptied. The store's own background work (the event log's
     * compaction of a run an earlier test ended) may still be changing rows while they are deleted; when
     * PostgreSQL ends one of the two as a deadlock and it is the emptying, it is done again.
     */
    JdbcChatStore freshStore() {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = connect(); Statement s = c.createStatement()) {
                for (String table : TABLES) {
                    s.executeUpdate("DELETE FROM " + table);
                }
                if (vendor == Vendor.POSTGRESQL) {
                    for (String table : POSTGRESQL_TABLES) {
                        s.executeUpdate("DELETE FROM " + table);
                    }
                }
                return store;
            } catch (SQLException e) {
                if (!DEADLOCK.equals(e.getSQLState()) || attempt == 5) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** A plain connection to this class's database, outside any pool. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
    }

    /** The first column of the first row of {@code sql}, as a number, run with plain SQL. */
    long queryLong(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rows of {@code table}, counted with plain SQL. */
    long count(String table) {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
