package dev.parley.adapter.http;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A key set source that counts the changes of what it fetches: {@link #generation()} moves every
 * time a fetched key set differs from the one before, so tokens verified against the old keys can
 * be verified again. Thread-safe.
 */
final class WatchedJwkSetSource implements JWKSetSource<SecurityContext> {
    private final JWKSetSource<SecurityContext> delegate;
    private final AtomicLong generation = new AtomicLong();
    private volatile Set<String> lastKeys = Set.of();
    private final AtomicLong fetches = new AtomicLong();

    WatchedJwkSetSource(JWKSetSource<SecurityContext> delegate) {
        this.delegate = delegate;
    }

    @Override
    public JWKSet getJWKSet(JWKSetCacheRefreshEvaluator refreshEvaluator, long currentTime, SecurityContext context)
            throws KeySourceException {
        JWKSet set = delegate.getJWKSet(refreshEvaluator, currentTime, context);
        fetches.incrementAndGet();
        Set<String> keys = new HashSet<>();
        for (JWK key : set.toPublicJWKSet().getKeys()) {
            keys.add(key.toJSONString());
        }
        synchronized (this) {
            if (!keys.equals(lastKeys)) {
                lastKeys = Set.copyOf(keys);
                generation.incrementAndGet();
            }
        }
        return set;
    }

    long generation() {
        return generation.get();
    }

    /** Key sets fetched so far. */
    long fetches() {
        return fetches.get();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
