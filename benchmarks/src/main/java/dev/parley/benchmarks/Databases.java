package dev.parley.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.jdbc.JdbcChatStore;
import dev.parley.adapter.jdbc.JdbcChatStores;
import dev.parley.chat.port.out.ChatStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The stores a benchmark runs on, each in a place of its own that is removed afterwards: the
 * in-memory store, an H2 file database under {@code benchmarks/target/bench-db}, or a fresh schema
 * on the PostgreSQL server named by {@code PARLEY_BENCH_PG_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}, user {@code postgres}), always with
 * {@code synchronous_commit=on}.
 */
public final class Databases {
    public static final String PG_URL = envOr("PARLEY_BENCH_PG_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    public static final String PG_USER = envOr("PARLEY_BENCH_PG_USER", "postgres");
    public static final String PG_PASSWORD = System.getenv("PARLEY_BENCH_PG_PASSWORD");
    private static final Path H2_DIR = Path.of(envOr("PARLEY_BENCH_H2_DIR", "benchmarks/target/bench-db"));

    private Databases() {}

    /** Where a benchmark keeps its data. */
    public enum Kind {
        MEMORY, H2, POSTGRES;

        public String label() {
            return switch (this) {
                case MEMORY -> "in-memory";
                case H2 -> "H2 file";
                case POSTGRES -> "PostgreSQL";
            };
        }

        public static Kind parse(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "memory", "inmemory", "in-memory" -> MEMORY;
                case "h2" -> H2;
                case "postgres", "postgresql", "pg" -> POSTGRES;
                default -> throw new IllegalArgumentException("unknown store " + name + " (memory, h2, postgres)");
            };
        }
    }

    /** True when the PostgreSQL server answers. */
    public static boolean postgresAvailable() {
        try (Connection c = DriverManager.getConnection(PG_URL, PG_USER, PG_PASSWORD)) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    /** A database of one kind, in a place of its own; closing removes it. */
    public static Database open(Kind kind, int poolSize) {
        return switch (kind) {
            case MEMORY -> new Database(kind, null, null, null, () -> { });
            case H2 -> h2(poolSize);
            case POSTGRES -> postgres(poolSize);
        };
    }

    private static Database h2(int poolSize) {
        try {
            Files.createDirectories(H2_DIR);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path file = H2_DIR.toAbsolutePath().resolve("b" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
        // as JdbcChatStores does for an H2 URL it is given: the statements of a turn stay prepared. And no reused results:
        // H2 hands back a query's last result when it runs again unchanged on unchanged tables, which a benchmark that
        // reads the same page over and over would time instead of the query (an agent list of 90 ms read as 54 µs so)
        String url = "jdbc:h2:file:" + file + ";QUERY_CACHE_SIZE=64;OPTIMIZE_REUSE_RESULTS=FALSE";
        HikariDataSource pool = pool(url, null, null, poolSize, null);
        return new Database(Kind.H2, url, pool, null, () -> {
            pool.close();
            deleteH2Files(file);
        });
    }

    private static Database postgres(int poolSize) {
        String schema = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String url = PG_URL + (PG_URL.contains("?") ? "&" : "?") + "options=-c%20synchronous_commit%3Don";
        try (Connection c = DriverManager.getConnection(url, PG_USER, PG_PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + PG_URL + " is not usable: " + e.getMessage(), e);
        }
        HikariDataSource pool = pool(url + "&currentSchema=" + schema, PG_USER, PG_PASSWORD, poolSize, schema);
        return new Database(Kind.POSTGRES, url, pool, schema, () -> {
            pool.close();
            try (Connection c = DriverManager.getConnection(url, PG_USER, PG_PASSWORD); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            } catch (SQLException e) {
                System.err.println("could not drop schema " + schema + ": " + e.getMessage());
            }
        });
    }

    private static HikariDataSource pool(String url, String user, String password, int size, String schema) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("bench");
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        if (schema != null) {
            config.setSchema(schema);
            config.addDataSourceProperty("reWriteBatchedInserts", "true");
        }
        return new HikariDataSource(config);
    }

    private static void deleteH2Files(Path file) {
        try (var files = Files.list(file.getParent())) {
            List<Path> mine = new ArrayList<>();
            files.filter(p -> p.getFileName().toString().startsWith(file.getFileName().toString())).forEach(mine::add);
            for (Path p : mine) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not delete " + file + ": " + e.getMessage());
        }
    }

    private static String envOr(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    /**
     * One benchmark's database: a pool on it ({@code null} for in-memory) shared by Parley's store
     * and by whatever it is compared with, and the PostgreSQL schema it lives in.
     */
    public static final class Database implements AutoCloseable {
        private final Kind kind;
        private final String url;
        private final HikariDataSource pool;
        private final String schema;
        private final Runnable remove;
        private final List<AutoCloseable> stores = new ArrayList<>();

        Database(Kind kind, String url, HikariDataSource pool, String schema, Runnable remove) {
            this.kind = kind;
            this.url = url;
            this.pool = pool;
            this.schema = schema;
            this.remove = remove;
        }

        public Kind kind() {
            return kind;
        }

        /** Its JDBC URL ({@code null} for in-memory). */
        public String url() {
            return url;
        }

        /** The PostgreSQL schema it lives in ({@code null} elsewhere). */
        public String schema() {
            return schema;
        }

        /** The pool ({@code null} for in-memory). */
        public DataSource dataSource() {
            return pool;
        }

        /** A Parley store on this database, tables migrated. */
        public ChatStore chatStore() {
            return chatStore(true);
        }

        /** A Parley store on this database, tables migrated, keeping thread totals and the usage ledger or not. */
        public ChatStore chatStore(boolean usageLedger) {
            if (kind == Kind.MEMORY) {
                return InMemoryAdapters.store();
            }
            JdbcChatStore store = JdbcChatStores.builder().dataSource(pool).schema(schema).usageLedger(usageLedger).build();
            stores.add(store);
            return store;
        }

        /** Runs a few statements (DDL of the peers). */
        public void execute(String... statements) {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                for (String sql : statements) {
                    s.execute(sql);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            for (AutoCloseable store : stores) {
                try {
                    store.close();
                } catch (Exception e) {
                    System.err.println("closing a store failed: " + e.getMessage());
                }
            }
            remove.run();
        }

        @Override
        public String toString() {
            return kind.label() + (url == null ? "" : " " + url) + (schema == null ? "" : " schema " + schema);
        }
    }
}
