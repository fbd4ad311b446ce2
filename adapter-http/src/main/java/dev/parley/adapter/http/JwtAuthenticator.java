package dev.parley.adapter.http;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.ImmutableSecret;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.ConfigurableJWTProcessor;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.parley.chat.port.in.Caller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Verifies signed JWTs (compact JWS) with nimbus-jose-jwt and answers the caller they prove: the
 * user id and roles read as its {@link ClaimMapping} says ({@code sub} and {@code roles} by default).
 *
 * <p>One key family per authenticator: an HS256 shared secret ({@link #hs256}), or public keys for
 * RS256/ES256 ({@link #publicKey}, {@link #publicKeyPem}, {@link #jwks}, {@link #jwksFile}). Only
 * the algorithms of the configured keys are accepted, so {@code alg: none} and algorithm confusion
 * (an HS256 token "signed" with a public key) are refused. {@code exp} and the user claim are
 * required; {@code exp}/{@code nbf} are checked with a small leeway (30 s by default); {@code iss}
 * and {@code aud} are checked when configured. Thread-safe.
 *
 * <p>Verified tokens are remembered (keyed by the exact token string, at most
 * {@link Builder#cacheSize} of them, 4,096 by default), so a client that sends the same token with
 * every request pays for its signature once. A remembered token is accepted only while its
 * {@code exp} (and {@code nbf}, when it has one) still hold with the same leeway, and is forgotten
 * once they do not; a token that fails verification is never remembered. The configured keys never
 * change, so a signature once verified stays valid. (Keys fetched from an identity provider do
 * change: {@link OidcAuthenticator} verifies a remembered token again once the provider's key set
 * has changed.)
 *
 * <pre>{@code
 * Authenticator auth = JwtAuthenticator.hs256(secretBytes).issuer("https://id.example").audience("parley").build();
 * }</pre>
 */
public final class JwtAuthenticator implements Authenticator {
    /** Longest token looked at; anything longer is refused unparsed. */
    public static final int MAX_TOKEN_LENGTH = 8192;
    /** Longest user id (the user claim, {@code sub} by default) accepted. */
    public static final int MAX_SUBJECT_LENGTH = 255;

    /** Default number of verified tokens remembered. */
    public static final int DEFAULT_CACHE_SIZE = 4096;

    private final ConfigurableJWTProcessor<SecurityContext> processor;
    private final Clock clock;
    private final long leewayMillis;
    private final int cacheSize;
    private final ClaimMapping mapping;
    /** Which key set signatures are checked against; a remembered token verified against another is verified again. */
    private final LongSupplier keyGeneration;
    /** Verified tokens by their exact text; at most {@link #cacheSize} entries. */
    private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();

    /** A verified token's caller, the window (leeway included) in which it is valid, epoch millis, and the key set it was verified against. */
    private record Verified(Caller caller, long notBefore, long expires, long keyGeneration) {
        boolean validAt(long now) {
            return now > notBefore && now < expires;
        }
    }

    private JwtAuthenticator(Builder builder) {
        this.clock = builder.clock;
        this.mapping = builder.mapping;
        this.keyGeneration = builder.keyGeneration;
        this.leewayMillis = builder.leeway.toSeconds() * 1000; // whole seconds, as the claims verifier counts
        this.cacheSize = builder.cacheSize;
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(builder.algorithms, builder.keys));
        JWTClaimsSet exact = builder.issuer == null ? new JWTClaimsSet.Builder().build()
                : new JWTClaimsSet.Builder().issuer(builder.issuer).build();
        Set<String> required = new HashSet<>(Set.of("exp"));
        if (builder.audience != null) {
            required.add("aud");
        }
        Clock verifierClock = builder.clock;
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
                builder.audience == null ? null : new HashSet<>(Set.of(builder.audience)), exact, required, null) {
            @Override
            protected Date currentTime() {
                return Date.from(verifierClock.instant());
            }
        };
        claims.setMaxClockSkew((int) builder.leeway.toSeconds());
        p.setJWTClaimsSetVerifier(claims);
        this.processor = p;
        initializeParser(p);
    }

    /**
     * Initializes the JOSE library's classes now, with a token that fails verification: the first
     * requests would otherwise initialize them together, each but one waiting (a virtual thread
     * pinned to its carrier meanwhile).
     */
    private static void initializeParser(DefaultJWTProcessor<SecurityContext> processor) {
        try {
            processor.process("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3YXJtLXVwIiwiZXhwIjoxfQ.AAAA", null);
        } catch (ParseException | com.nimbusds.jose.proc.BadJOSEException | com.nimbusds.jose.JOSEException | RuntimeException e) {
            // expected: the token is not signed by any configured key
        }
    }

    /** HS256 with a shared secret of at least 32 bytes. */
    public static Builder hs256(byte[] secret) {
        Objects.requireNonNull(secret, "secret");
        if (secret.length < 32) {
            throw new IllegalArgumentException("an HS256 secret needs at least 32 bytes (256 bits)");
        }
        return new Builder(Set.of(JWSAlgorithm.HS256), new ImmutableSecret<>(secret.clone()));
    }

    /** RS256 for an RSA public key, ES256 for an EC P-256 public key. */
    public static Builder publicKey(PublicKey key) {
        Objects.requireNonNull(key, "key");
        return fromJwks(new JWKSet(toJwk(key)));
    }

    /** A PEM {@code -----BEGIN PUBLIC KEY-----} block (X.509 SubjectPublicKeyInfo) with an RSA or EC P-256 key. */
    public static Builder publicKeyPem(String pem) {
        Objects.requireNonNull(pem, "pem");
        String base64 = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
        byte[] der;
        try {
            der = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a PEM public key", e);
        }
        for (String algorithm : new String[] {"RSA", "EC"}) {
            try {
                return publicKey(KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der)));
            } catch (GeneralSecurityException e) {
                // try the next key type
            }
        }
        throw new IllegalArgumentException("the PEM block holds neither an RSA nor an EC public key");
    }

    /** A JSON Web Key Set; its RSA keys verify RS256 and its EC P-256 keys ES256 (private and secret parts are ignored). */
    public static Builder jwks(String jwksJson) {
        Objects.requireNonNull(jwksJson, "jwksJson");
        try {
            return fromJwks(JWKSet.parse(jwksJson));
        } catch (ParseException e) {
            throw new IllegalArgumentException("not a JSON Web Key Set: " + e.getMessage(), e);
        }
    }

    /** {@link #jwks(String)} read from a file (UTF-8). */
    public static Builder jwksFile(Path path) {
        try {
            return jwks(Files.readString(path, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read JWKS file " + path, e);
        }
    }

    private static Builder fromJwks(JWKSet set) {
        JWKSet publicKeys = set.toPublicJWKSet();
        Set<JWSAlgorithm> algorithms = new HashSet<>();
        for (JWK key : publicKeys.getKeys()) {
            if (key.getKeyType() == KeyType.RSA) {
                algorithms.add(JWSAlgorithm.RS256);
            } else if (key.getKeyType() == KeyType.EC && Curve.P_256.equals(((ECKey) key).getCurve())) {
                algorithms.add(JWSAlgorithm.ES256);
            }
        }
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("no RSA or EC P-256 public key in the key set");
        }
        return new Builder(Set.copyOf(algorithms), new ImmutableJWKSet<>(publicKeys));
    }

    private static JWK toJwk(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).build();
        }
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (!Curve.P_256.equals(curve)) {
                throw new IllegalArgumentException("only EC keys on P-256 (ES256) are supported");
            }
            return new ECKey.Builder(curve, ec).build();
        }
        throw new IllegalArgumentException("unsupported public key type " + key.getAlgorithm());
    }

    @Override
    public Optional<String> authenticate(String bearerToken) {
        return caller(bearerToken).map(Caller::userId);
    }

    /** The roles of a valid token as its {@link ClaimMapping} reads them; empty when absent, malformed or the token is not valid. */
    @Override
    public Set<String> roles(String bearerToken) {
        return caller(bearerToken).map(Caller::roles).orElse(Set.of());
    }

    @Override
    public Optional<Caller> caller(String bearerToken) {
        if (bearerToken == null || bearerToken.isEmpty() || bearerToken.length() > MAX_TOKEN_LENGTH) {
            return Optional.empty();
        }
        long now = clock.millis();
        long generation = keyGeneration.getAsLong();
        Verified known = verified.get(bearerToken);
        if (known != null) {
            if (known.validAt(now) && known.keyGeneration() == generation) {
                return Optional.of(known.caller());
            }
            verified.remove(bearerToken, known);
            if (!known.validAt(now)) {
                return Optional.empty();
            }
        }
        try {
            JWTClaimsSet claims = processor.process(bearerToken, null);
            Optional<Caller> caller = mapping.caller(claims);
            caller.ifPresent(c -> remember(bearerToken, c, claims, generation));
            return caller;
        } catch (ParseException | com.nimbusds.jose.proc.BadJOSEException e) {
            return Optional.empty();
        } catch (com.nimbusds.jose.JOSEException e) {
            if (e instanceof com.nimbusds.jose.KeySourceException && !(e instanceof com.nimbusds.jose.jwk.source.RateLimitReachedException)) {
                // the provider's keys could not be fetched and none are cached: not the token's fault
                // (an unknown kid beyond the refresh rate limit is the token's fault: refused)
                throw new IdentityProviderUnavailableException("The identity provider's signing keys cannot be fetched", e);
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            // a token crafted to break the parser is just a bad token
            return Optional.empty();
        }
    }

    /** Remembers a token that passed verification, keeping the cache within its bound. */
    private void remember(String token, Caller caller, JWTClaimsSet claims, long generation) {
        if (cacheSize == 0) {
            return;
        }
        Date exp = claims.getExpirationTime(); // required, so never null after verification
        Date nbf = claims.getNotBeforeTime();
        long expires = exp.getTime() > Long.MAX_VALUE - leewayMillis ? Long.MAX_VALUE : exp.getTime() + leewayMillis;
        long notBefore = nbf == null ? Long.MIN_VALUE : nbf.getTime() - leewayMillis;
        if (verified.size() >= cacheSize) {
            evict();
        }
        verified.put(token, new Verified(caller, notBefore, expires, generation));
    }

    /**
     * Drops the expired entries, then, if that freed less than an eighth of the cache, arbitrary
     * others down to seven eighths, so that a full cache is swept once per eighth of its size.
     */
    private void evict() {
        long now = clock.millis();
        verified.values().removeIf(v -> !v.validAt(now));
        int target = cacheSize - Math.max(1, cacheSize / 8);
        Iterator<String> tokens = verified.keySet().iterator();
        while (verified.size() > target && tokens.hasNext()) {
            tokens.next();
            tokens.remove();
        }
    }

    /** Number of verified tokens currently remembered. */
    int cachedTokens() {
        return verified.size();
    }

    /** Options common to every key family. */
    public static final class Builder {
        private final Set<JWSAlgorithm> algorithms;
        private final JWKSource<SecurityContext> keys;
        private String issuer;
        private String audience;
        private Duration leeway = Duration.ofSeconds(30);
        private int cacheSize = DEFAULT_CACHE_SIZE;
        private Clock clock = Clock.systemUTC();
        private ClaimMapping mapping = ClaimMapping.defaults();
        private LongSupplier keyGeneration = () -> 0;

        private Builder(Set<JWSAlgorithm> algorithms, JWKSource<SecurityContext> keys) {
            this.algorithms = algorithms;
            this.keys = keys;
        }

        /** Keys that may change (an identity provider's): {@code generation} moves whenever they do. */
        static Builder changingKeys(Set<JWSAlgorithm> algorithms, JWKSource<SecurityContext> keys, LongSupplier generation) {
            Builder builder = new Builder(Set.copyOf(algorithms), keys);
            builder.keyGeneration = Objects.requireNonNull(generation, "generation");
            return builder;
        }

        /** Which claims are the user id and the roles, and which role is an admin; {@link ClaimMapping#defaults()} by default. */
        public Builder claims(ClaimMapping claimMapping) {
            this.mapping = Objects.requireNonNull(claimMapping, "claimMapping");
            return this;
        }

        /** Required {@code iss} value; null (the default) accepts any issuer. */
        public Builder issuer(String expectedIssuer) {
            this.issuer = expectedIssuer;
            return this;
        }

        /** Required {@code aud} value (the token's audience must contain it); null (the default) skips the check. */
        public Builder audience(String expectedAudience) {
            this.audience = expectedAudience;
            return this;
        }

        /** Clock skew allowed on {@code exp} and {@code nbf}, 0 to 5 minutes; 30 s by default. */
        public Builder leeway(Duration allowedSkew) {
            Objects.requireNonNull(allowedSkew, "allowedSkew");
            if (allowedSkew.isNegative() || allowedSkew.compareTo(Duration.ofMinutes(5)) > 0) {
                throw new IllegalArgumentException("leeway must be between 0 and 5 minutes");
            }
            this.leeway = allowedSkew;
            return this;
        }

        /** Verified tokens remembered (0 to 1,000,000; 0 verifies every request anew); 4,096 by default. */
        public Builder cacheSize(int maxTokens) {
            if (maxTokens < 0 || maxTokens > 1_000_000) {
                throw new IllegalArgumentException("cacheSize must be between 0 and 1000000");
            }
            this.cacheSize = maxTokens;
            return this;
        }

        /** The clock {@code exp} and {@code nbf} are checked against; the system clock by default. */
        Builder clock(Clock now) {
            this.clock = Objects.requireNonNull(now, "now");
            return this;
        }

        public JwtAuthenticator build() {
            return new JwtAuthenticator(this);
        }
    }
}
