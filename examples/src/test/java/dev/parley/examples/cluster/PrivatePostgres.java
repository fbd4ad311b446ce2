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
import java.util.Map;

/**
 * PostgreSQL for the tests that run demo servers as processes: {@link #privateServer} starts a
 * PostgreSQL that only its test uses, which it may stop and start again (the shared server of
 * {@link dev.parley.testsupport.TestPostgres} is never stopped), and {@link #demoEnvironment} points a
 * demo server at a database.
 */
public final class PrivatePostgres {
    private PrivatePostgres() {}

    /** A PostgreSQL of the calling test alone, on a free port, with its data in {@code dataDir}. */
    public static PrivateServer privateServer(Path dataDir) throws IOException {
        return new PrivateServer(dataDir.resolve("pgdata"), DemoProcess.freePort());
    }

    /** Settings that point a demo server at {@code jdbcUrl} (the user, if the URL names one, as PARLEY_DB_USER too). */
    public static Map<String, String> demoEnvironment(String jdbcUrl) {
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
            return PrivatePostgres.demoEnvironment(url());
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
