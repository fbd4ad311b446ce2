package dev.parley.adapter.http;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Per-user token buckets: {@code capacity} requests, refilled greedily over {@code period}. The
 * buckets of the least recently seen users are forgotten beyond {@code maxUsers} (a forgotten user
 * simply starts again with a full bucket).
 */
final class Bucket4jRateLimiter {
    private final long capacity;
    private final Duration period;
    private final Map<String, Bucket> buckets;

    Bucket4jRateLimiter(long capacity, Duration period, int maxUsers) {
        this.capacity = capacity;
        this.period = period;
        this.buckets = new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
                return size() > maxUsers;
            }
        };
    }

    /** Takes one token for {@code userId}: empty when allowed, else the whole seconds to wait before retrying (at least 1). */
    OptionalLong tryAcquire(String userId) {
        Bucket bucket;
        synchronized (buckets) {
            bucket = buckets.computeIfAbsent(userId, id -> Bucket.builder()
                    .addLimit(Bandwidth.builder().capacity(capacity).refillGreedy(capacity, period).build())
                    .build());
        }
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return OptionalLong.empty();
        }
        long seconds = (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L;
        return OptionalLong.of(Math.max(1, seconds));
    }
}
