package dev.parley.adapter.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.StorageUnavailableException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * Creates {@link JdbcChatStore}s on PostgreSQL or H2 (file or in-memory), migrating the schema with
 * Flyway first. The database is recognised from the connection's metadata.
 *
 * <pre>{@code
 * try (JdbcChatStore store = JdbcChatStores.create("jdbc:postgresql://db:5432/app", "app", secret)) {
 *     ChatService chat = ...; // wire the store into the core
 * }
 * JdbcChatStore embedded = JdbcChatStores.create("jdbc:h2:file:./data/parley");
 * JdbcChatStore onMyPool = JdbcChatStores.builder().dataSource(myPool).schema("parley").build();
 * }</pre>
 *
 * <p>A URL makes a HikariCP pool that the store owns and closes; its connection timeout is short
 * (3 s by default) so that a database outage answers {@link StorageUnavailableException} quickly, and
 * it reconnects by itself when the database is back. An H2 in-memory URL gets
 * {@code DB_CLOSE_DELAY=-1} unless it names its own, so the database lives as long as the JVM rather
 * than as long as one connection, and any H2 URL gets {@code QUERY_CACHE_SIZE=64} unless it names its
 * own: each session then keeps the statements of a turn prepared (H2 keeps 8 by default and parses
 * the rest again on every use).
 */
public final class JdbcChatStores {
    static final String HISTORY_TABLE = "parley_schema_history";

    private JdbcChatStores() {}

    /** A store on {@code jdbcUrl} (credentials in the URL, or none). */
    public static JdbcChatStore create(String jdbcUrl) {
        return builder().url(jdbcUrl).build();
    }

    /** A store on {@code jdbcUrl} with a user and password. */
    public static JdbcChatStore create(String jdbcUrl, String user, String password) {
        return builder().url(jdbcUrl).credentials(user, password).build();
    }

    /** A store on a pool the caller owns (and closes). */
    public static JdbcChatStore create(DataSource dataSource) {
        return builder().dataSource(dataSource).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a store; {@link #url} or {@link #dataSource} is required. Not thread-safe. */
    public static final class Builder {
        private String url;
        private String user;
        private String password;
        private DataSource dataSource;
        private String schema;
        private boolean migrate = true;
        private boolean usageLedger = true;
        private int maxPoolSize = 10;
        private Duration connectionTimeout = Duration.ofSeconds(3);

        private Builder() {}

        /** The JDBC URL of a PostgreSQL ({@code jdbc:postgresql:}) or H2 ({@code jdbc:h2:}) database. */
        public Builder url(String jdbcUrl) {
            this.url = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            return this;
        }

        public Builder credentials(String user, String password) {
            this.user = user;
            this.password = password;
            return this;
        }

        /** Use this pool instead of making one; the store never closes it. */
        public Builder dataSource(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
            return this;
        }

        /**
         * Keep Parley's tables in this schema (created when missing) instead of the connection's
         * current one. Letters, digits and underscores; case-sensitive.
         */
        public Builder schema(String schema) {
            this.schema = schema;
            return this;
        }

        /** Whether to run the schema migrations on build (default true). */
        public Builder migrate(boolean migrate) {
            this.migrate = migrate;
            return this;
        }

        /**
         * Whether the store keeps each thread's usage totals and the usage ledger as runs end (default
         * true). Without them threads report no usage, usage reports are empty and monthly budgets never
         * trip; the transaction that ends a run is then three statements shorter (for an embedder that
         * meters elsewhere).
         */
        public Builder usageLedger(boolean keep) {
            this.usageLedger = keep;
            return this;
        }

        /** Largest number of connections of the pool made from a URL (default 10). */
        public Builder maxPoolSize(int maxPoolSize) {
            if (maxPoolSize < 1) {
                throw new IllegalArgumentException("maxPoolSize must be at least 1");
            }
            this.maxPoolSize = maxPoolSize;
            return this;
        }

        /** Longest wait for a connection of the pool made from a URL (default 3 s, at least 250 ms). */
        public Builder connectionTimeout(Duration timeout) {
            if (timeout.toMillis() < 250) {
                throw new IllegalArgumentException("connectionTimeout must be at least 250 ms");
            }
            this.connectionTimeout = timeout;
            return this;
        }

        /**
         * Opens (or adopts) the pool, recognises the database, migrates the schema and returns the
         * store. An unreachable database is a {@link StorageUnavailableException}; an unsupported one
         * an IllegalArgumentException.
         */
        public JdbcChatStore build() {
            if ((url == null) == (dataSource == null)) {
                throw new IllegalArgumentException("set exactly one of url and dataSource");
            }
            if (schema != null) {
                Db.quote(schema);
            }
            HikariDataSource pool = null;
            try {
                DataSource ds = dataSource;
                if (ds == null) {
                    pool = new HikariDataSource(poolConfig());
                    ds = pool;
                }
                Dialect dialect = detect(ds);
                if (migrate) {
                    migrate(ds, dialect);
                }
                if (dialect == Dialect.POSTGRESQL) {
                    PgRunSignals signals = new PgRunSignals(ownConnector(ds, pool != null, "parley-signals"), ds,
                            schema != null ? schema : currentSchema(ds));
                    Db db = new Db(ds, dialect, schema, signals);
                    PgServerLiveness liveness = new PgServerLiveness(db, ownConnector(ds, pool != null, "parley-liveness"));
                    return new JdbiChatStore(db, pool, signals, signals, liveness, usageLedger);
                }
                LocalRunSignals signals = new LocalRunSignals();
                return new JdbiChatStore(new Db(ds, dialect, schema, signals), pool, signals, null, null, usageLedger);
            } catch (RuntimeException e) {
                if (pool != null) {
                    pool.close();
                }
                throw opening(e);
            }
        }

        private HikariConfig poolConfig() {
            HikariConfig config = new HikariConfig();
            config.setPoolName("parley");
            config.setJdbcUrl(adjust(url));
            config.setUsername(user);
            config.setPassword(password);
            config.setMaximumPoolSize(maxPoolSize);
            config.setConnectionTimeout(connectionTimeout.toMillis());
            config.setValidationTimeout(Math.max(250, Math.min(1000, connectionTimeout.toMillis())));
            // drop connections of a database that is gone at once, not at their next validation
            config.setExceptionOverride(new EvictWhenGone());
            return config;
        }

        /**
         * Where the signal listener and each liveness signal get their connection: their own, next to the
         * pool made from a URL, named {@code applicationName} in {@code pg_stat_activity}; a connection of the
         * caller's pool otherwise (held for as long as the store listens, or the signal is held).
         */
        private PgRunSignals.Connector ownConnector(DataSource ds, boolean ownPool, String applicationName) {
            if (!ownPool) {
                return ds::getConnection;
            }
            Properties props = new Properties();
            if (user != null && !user.isEmpty()) {
                props.setProperty("user", user);
            }
            if (password != null && !password.isEmpty()) {
                props.setProperty("password", password);
            }
            String seconds = Long.toString(Math.max(1, connectionTimeout.toSeconds()));
            props.setProperty("connectTimeout", seconds);
            props.setProperty("loginTimeout", seconds);
            props.setProperty("tcpKeepAlive", "true");
            props.setProperty("ApplicationName", applicationName);
            String jdbcUrl = url;
            return () -> DriverManager.getConnection(jdbcUrl, props);
        }

        private void migrate(DataSource ds, Dialect dialect) {
            var config = Flyway.configure(JdbcChatStores.class.getClassLoader())
                    .dataSource(ds)
                    .locations(dialect.migrations())
                    .table(HISTORY_TABLE)
                    .failOnMissingLocations(true)
                    // a database that already holds the application's own tables is fine
                    .baselineOnMigrate(true)
                    .baselineVersion("0");
            if (schema != null) {
                config.schemas(schema).createSchemas(true);
            }
            config.load().migrate();
        }
    }

    /** Tells the pool to evict a connection whose database is gone (H2 reports that with its own codes). */
    private static final class EvictWhenGone implements SQLExceptionOverride {
        @java.lang.Override
        public Override adjudicate(SQLException e) {
            return SqlErrors.isDatabaseGone(e) ? Override.MUST_EVICT : Override.CONTINUE_EVICT;
        }
    }

    /** The prepared statements an H2 session keeps: a turn runs about 25 distinct ones (H2's default keeps 8). */
    static final int H2_QUERY_CACHE_SIZE = 64;

    static String adjust(String url) {
        if (!url.startsWith("jdbc:h2:")) {
            return url;
        }
        String upper = url.toUpperCase(java.util.Locale.ROOT);
        String adjusted = url;
        if (url.startsWith("jdbc:h2:mem:") && !upper.contains("DB_CLOSE_DELAY")) {
            adjusted += ";DB_CLOSE_DELAY=-1";
        }
        if (!upper.contains("QUERY_CACHE_SIZE")) {
            adjusted += ";QUERY_CACHE_SIZE=" + H2_QUERY_CACHE_SIZE;
        }
        return adjusted;
    }

    private static Dialect detect(DataSource ds) {
        try (Connection c = ds.getConnection()) {
            return Dialect.of(c.getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw SqlErrors.translate(e);
        }
    }

    /** The schema that a connection's unqualified names resolve to (its {@code search_path}'s first). */
    private static String currentSchema(DataSource ds) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_schema()")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw SqlErrors.translate(e);
        }
    }

    private static RuntimeException opening(RuntimeException e) {
        if (e instanceof ChatException || e instanceof IllegalArgumentException) {
            return e;
        }
        RuntimeException translated = SqlErrors.translate(e);
        if (translated instanceof ChatException) {
            return translated;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && SqlErrors.isTransient(sql)) {
                return new StorageUnavailableException("The store is unreachable", e);
            }
        }
        return new IllegalStateException("Preparing the Parley schema failed", e);
    }
}
