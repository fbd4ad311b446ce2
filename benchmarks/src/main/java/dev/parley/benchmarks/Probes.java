package dev.parley.benchmarks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;

/** Context for the database figures: what one commit costs on this machine, with plain JDBC. */
final class Probes {
    private Probes() {}

    /** Median microseconds of a one-row insert committed on its own, on one connection. */
    static double commitMicros(Databases.Kind kind, int commits) {
        try (Databases.Database db = Databases.open(kind, 1)) {
            db.execute("CREATE TABLE commit_probe (id INT PRIMARY KEY, payload VARCHAR(100))");
            long[] took = new long[commits];
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement s = c.prepareStatement("INSERT INTO commit_probe (id, payload) VALUES (?, ?)")) {
                c.setAutoCommit(true);
                for (int i = 0; i < commits; i++) {
                    long t0 = System.nanoTime();
                    s.setInt(1, i);
                    s.setString(2, "a row about as long as a short chat message, give or take");
                    s.executeUpdate();
                    took[i] = System.nanoTime() - t0;
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            Arrays.sort(took);
            return took[commits / 2] / 1_000.0;
        }
    }
}
