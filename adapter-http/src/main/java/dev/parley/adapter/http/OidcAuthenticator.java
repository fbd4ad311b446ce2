package dev.parley.adapter.http;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.URLBasedJWKSetSource;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import dev.parley.chat.port.in.Caller;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies the tokens of an OpenID Connect provider (Keycloak, Auth0, Okta, Entra ID, Google, ...):
 * discovers its metadata at {@code <issuer>/.well-known/openid-configuration}, fetches its signing
 * keys from the {@code jwks_uri} there, and checks {@code iss}, {@code aud}, {@code exp}/{@code nbf}
 * and the signature with the asymmetric algorithms the provider declares (never {@code none}, never
 * HS*). The user id and roles come from the claims a {@link ClaimMapping} names.
 *
 * <p>The keys are cached ({@link Builder#jwksCacheLifespan}, 5 min by default) with
 * nimbus-jose-jwt's remote key source: a token with an unknown {@code kid} makes it fetch the key set
 * again (at most once per {@link Builder#jwksRefreshMinInterval}, 30 s by default, so a flood of
 * forged {@code kid}s does not become a flood of requests to the provider), so a key rotation is
 * picked up without a restart and a key the provider removed stops working once the set is fetched
 * again. While the provider is unreachable the last key set keeps serving
 * ({@link Builder#outageTolerance}, 1 h by default).
 *
 * <p>{@link Builder#build()} tries the discovery and the first key fetch once; when the provider is
 * unreachable it returns anyway and retries in the background (1 s, then doubling up to 1 min),
 * and meanwhile every token is answered with {@link IdentityProviderUnavailableException} (503
 * {@code unavailable}) and {@link #checkReady()} says why. Thread-safe; {@link #close()} stops the
 * retries.
 *
 * <pre>{@code
 * OidcAuthenticator auth = OidcAuthenticator.issuer("https://id.example/realms/parley")
 *         .audience("parley")
 *         .claims(ClaimMapping.defaults().withRolesClaim("realm_access.roles"))
 *         .build();
 * }</pre>
 */
public final class OidcAuthenticator implements Authenticator, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(OidcAuthenticator.class);

    private final Builder settings;
    private final HttpClient http;
    private final ScheduledExecutorService retries;
    private volatile JwtAuthenticator verifier;
    private volatile Endpoints endpoints;
    private volatile JWKSource<SecurityContext> keySource;
    private volatile WatchedJwkSetSource watched;
    private volatile String notReadyReason = "discovery has not run yet";
    private volatile boolean closed;

    private OidcAuthenticator(Builder settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().connectTimeout(settings.httpTimeout).followRedirects(HttpClient.Redirect.NORMAL).build();
        this.retries = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "parley-oidc-discovery");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts configuring the authenticator for the provider whose {@code iss} is {@code issuer} (an http(s) URL). */
    public static Builder issuer(String issuer) {
        return new Builder(issuer);
    }

    /** The configured issuer. */
    public String issuer() {
        return settings.issuer;
    }

    /** Whether the provider has been discovered and its keys fetched once. */
    public boolean isReady() {
        return verifier != null;
    }

    /** Throws {@link IdentityProviderUnavailableException}, saying why, until the provider has been discovered. */
    public void checkReady() {
        if (verifier == null) {
            throw unavailable();
        }
    }

    private IdentityProviderUnavailableException unavailable() {
        return new IdentityProviderUnavailableException(
                "The identity provider " + settings.issuer + " is not reachable yet (" + notReadyReason + ")");
    }

    @Override
    public Optional<String> authenticate(String bearerToken) {
        return caller(bearerToken).map(Caller::userId);
    }

    @Override
    public Set<String> roles(String bearerToken) {
        return caller(bearerToken).map(Caller::roles).orElse(Set.of());
    }

    @Override
    public Optional<Caller> caller(String bearerToken) {
        JwtAuthenticator current = verifier;
        if (current == null) {
            throw unavailable();
        }
        return current.caller(bearerToken);
    }

    /**
     * The provider's endpoints a page needs to sign users in (authorization code flow with PKCE),
     * once discovered; each URL null when the provider does not declare it.
     */
    public record Endpoints(String authorization, String token, String endSession) {}

    /** The provider's endpoints; empty until the provider has been discovered. */
    public Optional<Endpoints> endpoints() {
        return Optional.ofNullable(verifier == null ? null : endpoints);
    }

    /** Key sets fetched from the provider so far (0 before discovery). */
    long keySetFetches() {
        WatchedJwkSetSource source = watched;
        return source == null ? 0 : source.fetches();
    }

    private void start() {
        if (!attempt()) {
            schedule(settings.firstRetryDelay);
        }
    }

    private void schedule(Duration delay) {
        if (closed) {
            return;
        }
        retries.schedule(() -> {
            if (!attempt()) {
                Duration doubled = delay.multipliedBy(2);
                schedule(doubled.compareTo(settings.maxRetryDelay) > 0 ? settings.maxRetryDelay : doubled);
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One discovery and first key fetch; true when the authenticator is ready after it. */
    private boolean attempt() {
        try {
            OidcDiscovery discovery = OidcDiscovery.fetch(http, settings.issuer, settings.httpTimeout);
            int timeoutMillis = (int) settings.httpTimeout.toMillis();
            WatchedJwkSetSource source = new WatchedJwkSetSource(new URLBasedJWKSetSource<>(discovery.jwksUri(),
                    new DefaultResourceRetriever(timeoutMillis, timeoutMillis, JWKSourceBuilder.DEFAULT_HTTP_SIZE_LIMIT)));
            JWKSourceBuilder<SecurityContext> keys = JWKSourceBuilder.create(source)
                    .cache(settings.jwksCacheLifespan.toMillis(), settings.httpTimeout.toMillis())
                    // refresh ahead of expiry, in the background, where the lifespan leaves room for it
                    .refreshAheadCache(settings.jwksCacheLifespan.toMillis()
                            > JWKSourceBuilder.DEFAULT_REFRESH_AHEAD_TIME + settings.httpTimeout.toMillis())
                    .retrying(true)
                    .outageTolerant(settings.outageTolerance.toMillis());
            keys = settings.jwksRefreshMinInterval.isZero() ? keys.rateLimited(false)
                    : keys.rateLimited(settings.jwksRefreshMinInterval.toMillis());
            JWKSource<SecurityContext> built = keys.build();
            if (built.get(new JWKSelector(new JWKMatcher.Builder().build()), null).isEmpty()) {
                throw new IOException("the provider's key set " + discovery.jwksUri() + " is empty");
            }
            JwtAuthenticator.Builder verifierSettings = JwtAuthenticator.Builder
                    .changingKeys(discovery.algorithms(), built, source::generation)
                    .issuer(discovery.issuer())
                    .audience(settings.audience)
                    .claims(settings.claims)
                    .leeway(settings.leeway)
                    .cacheSize(settings.cacheSize);
            this.watched = source;
            this.keySource = built;
            this.endpoints = discovery.endpoints();
            this.verifier = verifierSettings.build();
            LOG.info("Identity provider {} discovered: keys at {}, algorithms {}", settings.issuer, discovery.jwksUri(), discovery.algorithms());
            retries.shutdown();
            return true;
        } catch (IOException | KeySourceException | RuntimeException e) {
            notReadyReason = reason(e);
            LOG.warn("Identity provider {} not reachable yet, retrying: {}", settings.issuer, notReadyReason);
            return false;
        }
    }

    private static String reason(Exception e) {
        if (e instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (e instanceof java.net.http.HttpTimeoutException) {
            return "timed out";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /** Stops the background retries and releases the key source. */
    @Override
    public void close() {
        closed = true;
        retries.shutdownNow();
        if (keySource instanceof Closeable closeable) {
            try {
                closeable.close();
            } catch (IOException e) {
                LOG.debug("Closing the key source failed: {}", e.toString());
            }
        }
    }

    /** Settings of an {@link OidcAuthenticator}. */
    public static final class Builder {
        private final String issuer;
        private String audience;
        private ClaimMapping claims = ClaimMapping.defaults();
        private Duration leeway = Duration.ofSeconds(30);
        private int cacheSize = JwtAuthenticator.DEFAULT_CACHE_SIZE;
        private Duration jwksCacheLifespan = Duration.ofMinutes(5);
        private Duration jwksRefreshMinInterval = Duration.ofSeconds(30);
        private Duration outageTolerance = Duration.ofHours(1);
        private Duration httpTimeout = Duration.ofSeconds(5);
        private Duration firstRetryDelay = Duration.ofSeconds(1);
        private Duration maxRetryDelay = Duration.ofMinutes(1);

        private Builder(String issuer) {
            Objects.requireNonNull(issuer, "issuer");
            URI uri;
            try {
                uri = new URI(issuer);
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("issuer must be an http(s) URL", e);
            }
            if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getQuery() != null || uri.getFragment() != null) {
                throw new IllegalArgumentException("issuer must be an http(s) URL without query or fragment");
            }
            this.issuer = issuer;
        }

        /** Required {@code aud} value (the token's audience must contain it); null (the default) skips the check. */
        public Builder audience(String expectedAudience) {
            if (expectedAudience != null && expectedAudience.isBlank()) {
                throw new IllegalArgumentException("audience must not be blank");
            }
            this.audience = expectedAudience;
            return this;
        }

        /** Which claims are the user id and the roles; {@link ClaimMapping#defaults()} by default. */
        public Builder claims(ClaimMapping claimMapping) {
            this.claims = Objects.requireNonNull(claimMapping, "claimMapping");
            return this;
        }

        /** Clock skew allowed on {@code exp} and {@code nbf}, 0 to 5 minutes; 30 s by default. */
        public Builder leeway(Duration allowedSkew) {
            this.leeway = Objects.requireNonNull(allowedSkew, "allowedSkew");
            return this;
        }

        /** Verified tokens remembered (see {@link JwtAuthenticator.Builder#cacheSize}); 4,096 by default. */
        public Builder cacheSize(int maxTokens) {
            this.cacheSize = maxTokens;
            return this;
        }

        /** How long a fetched key set is used before it is fetched again; 5 min by default. */
        public Builder jwksCacheLifespan(Duration lifespan) {
            this.jwksCacheLifespan = positive(lifespan, "jwksCacheLifespan");
            return this;
        }

        /** Least time between two fetches of the key set for unknown {@code kid}s (zero: no limit); 30 s by default. */
        public Builder jwksRefreshMinInterval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.isNegative()) {
                throw new IllegalArgumentException("jwksRefreshMinInterval must not be negative");
            }
            this.jwksRefreshMinInterval = interval;
            return this;
        }

        /** How long the last key set keeps serving while the provider is unreachable; 1 h by default. */
        public Builder outageTolerance(Duration tolerance) {
            this.outageTolerance = positive(tolerance, "outageTolerance");
            return this;
        }

        /** Connect and read timeout of every request to the provider; 5 s by default. */
        public Builder httpTimeout(Duration timeout) {
            this.httpTimeout = positive(timeout, "httpTimeout");
            return this;
        }

        /** The first wait before discovery is tried again, and the longest (the waits double); 1 s and 1 min by default. */
        public Builder retryDelays(Duration first, Duration max) {
            this.firstRetryDelay = positive(first, "first");
            this.maxRetryDelay = positive(max, "max");
            if (max.compareTo(first) < 0) {
                throw new IllegalArgumentException("the longest retry delay must not be shorter than the first");
            }
            return this;
        }

        private static Duration positive(Duration value, String name) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return value;
        }

        /**
         * The authenticator, after one attempt at discovery; if the provider could not be reached,
         * it keeps trying in the background.
         */
        public OidcAuthenticator build() {
            // check the token settings now rather than at discovery
            JwtAuthenticator.hs256(new byte[32]).leeway(leeway).cacheSize(cacheSize);
            OidcAuthenticator authenticator = new OidcAuthenticator(this);
            authenticator.start();
            return authenticator;
        }
    }
}
