package dev.parley.adapter.http;

import java.time.Duration;
import java.util.OptionalLong;
import javax.sql.DataSource;

/**
 * A per-user request budget: every authenticated request and every WebSocket {@code chat} or
 * {@code cancel} frame takes one request from its user's budget; an empty budget answers 429
 * {@code rate_limited} with {@code Retry-After}. Implementations are thread-safe.
 *
 * <pre>{@code
 * ParleyHttp.config(chat, authenticator).rateLimiter(RateLimiter.inMemory(120));          // each server counts alone
 * ParleyHttp.config(chat, authenticator).rateLimiter(RateLimiter.postgresql(pool, 120));  // servers share one count
 * }</pre>
 */
public interface RateLimiter {

    /** Takes one request from {@code userId}'s budget: empty when allowed, else the whole seconds to wait (at least 1). */
    OptionalLong tryAcquire(String userId);

    /**
     * {@code requestsPerMinute} per user, counted in this server's memory (a token bucket refilled
     * continuously): behind a load balancer, each server lets a user make that many.
     */
    static RateLimiter inMemory(int requestsPerMinute) {
        requirePositive(requestsPerMinute);
        return new Bucket4jRateLimiter(requestsPerMinute, Duration.ofMinutes(1), 100_000);
    }

    /**
     * {@code requestsPerMinute} per user, counted in the PostgreSQL table {@code parley_rate_limits}
     * (created when missing) so that every server on the database shares one budget per user. Each
     * request costs one short transaction on {@code dataSource}; give it a pool of its own or room
     * in the store's. When the database cannot be reached, requests are let through (the routes
     * that need the database answer 503 anyway) and a warning is logged.
     */
    static RateLimiter postgresql(DataSource dataSource, int requestsPerMinute) {
        requirePositive(requestsPerMinute);
        return new PostgresRateLimiter(dataSource, PostgresRateLimiter.DEFAULT_TABLE, requestsPerMinute, Duration.ofMinutes(1));
    }

    private static void requirePositive(int requestsPerMinute) {
        if (requestsPerMinute < 1) {
            throw new IllegalArgumentException("requestsPerMinute must be positive");
        }
    }
}
