package dev.parley.adapter.http;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.jdbc.PrimaryKeyMapper;
import io.github.bucket4j.postgresql.Bucket4jPostgreSQL;
import io.github.bucket4j.postgresql.PostgreSQLSelectForUpdateBasedProxyManager;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-user token buckets kept in a PostgreSQL table through Bucket4j's {@code SELECT ... FOR UPDATE}
 * proxy manager, so that every server on the database draws from the same bucket. Rows of users
 * whose bucket is full again expire; expired rows are removed in batches by whichever request
 * comes first after each {@link #CLEANUP_EVERY}. A database failure lets the request through and
 * is logged at most once per {@link #WARN_EVERY}.
 */
final class PostgresRateLimiter implements RateLimiter {
    static final String DEFAULT_TABLE = "parley_rate_limits";
    static final Duration CLEANUP_EVERY = Duration.ofMinutes(1);
    static final Duration WARN_EVERY = Duration.ofSeconds(30);
    private static final int CLEANUP_BATCH = 1_000;
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9._@:+|-]{1,200}");
    private static final Pattern TABLE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final Logger LOG = LoggerFactory.getLogger(PostgresRateLimiter.class);

    private final PostgreSQLSelectForUpdateBasedProxyManager<String> buckets;
    private final BucketConfiguration configuration;
    private final AtomicLong nextCleanup = new AtomicLong(System.nanoTime() + CLEANUP_EVERY.toNanos());
    private final AtomicLong nextWarning = new AtomicLong(System.nanoTime());

    PostgresRateLimiter(DataSource dataSource, String table, long capacity, Duration period) {
        Objects.requireNonNull(dataSource, "dataSource");
        if (!TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("table must be a plain lower-case SQL name");
        }
        createTable(dataSource, table);
        this.buckets = Bucket4jPostgreSQL.selectForUpdateBasedBuilder(dataSource)
                .primaryKeyMapper(PrimaryKeyMapper.STRING)
                .table(table)
                .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                .build();
        this.configuration = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(capacity).refillGreedy(capacity, period))
                .build();
    }

    private static void createTable(DataSource dataSource, String table) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + table
                    + " (id VARCHAR(255) PRIMARY KEY, state BYTEA, expires_at BIGINT)");
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot create the rate limit table " + table + " (SQLState " + e.getSQLState() + ")", e);
        }
    }

    @Override
    public OptionalLong tryAcquire(String userId) {
        try {
            ConsumptionProbe probe = buckets.getProxy(key(userId), () -> configuration).tryConsumeAndReturnRemaining(1);
            cleanUpNow();
            if (probe.isConsumed()) {
                return OptionalLong.empty();
            }
            long seconds = (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L;
            return OptionalLong.of(Math.max(1, seconds));
        } catch (RuntimeException e) {
            long now = System.nanoTime();
            long due = nextWarning.get();
            if (now - due >= 0 && nextWarning.compareAndSet(due, now + WARN_EVERY.toNanos())) {
                LOG.warn("The rate limit table cannot be used; letting requests through: {}", e.toString());
            }
            return OptionalLong.empty();
        }
    }

    /** Removes a batch of expired rows when it is time to, on one request at a time. */
    private void cleanUpNow() {
        long now = System.nanoTime();
        long due = nextCleanup.get();
        if (now - due < 0 || !nextCleanup.compareAndSet(due, now + CLEANUP_EVERY.toNanos())) {
            return;
        }
        try {
            int removed = buckets.removeExpired(CLEANUP_BATCH);
            LOG.debug("Removed {} expired rate limit rows", removed);
        } catch (RuntimeException e) {
            LOG.debug("Could not remove expired rate limit rows: {}", e.toString());
        }
    }

    /** The row key of a user: the id itself when short and plain, else a digest of it (ids are opaque and unbounded). */
    static String key(String userId) {
        if (PLAIN_KEY.matcher(userId).matches()) {
            return "u:" + userId;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(userId.getBytes(StandardCharsets.UTF_8));
            return "h:" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
