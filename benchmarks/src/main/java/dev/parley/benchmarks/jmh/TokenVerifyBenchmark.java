package dev.parley.benchmarks.jmh;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.parley.adapter.http.Authenticator;
import dev.parley.adapter.http.JwtAuthenticator;
import dev.parley.adapter.http.OidcAuthenticator;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of verifying a bearer token: HS256 with a shared secret beside RS256 with the key of an
 * OpenID Connect provider's JWKS (served by a local HTTP server on the loopback). {@code hs256} and
 * {@code oidcCached} verify a token never seen before (the verified-token cache is off), so they are
 * the signature and claims checks alone, the provider's keys already cached; {@code oidcFirst} is
 * the first token of a newly started server: discovery, the key set fetched, then the token verified.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TokenVerifyBenchmark {
    private static final byte[] SECRET = "benchmark-secret-benchmark-secret-0123456789".getBytes(StandardCharsets.UTF_8);
    private static final int TOKENS = 1024;

    private HttpServer provider;
    private String issuer;
    private RSAKey key;
    private Authenticator hs256;
    private OidcAuthenticator oidc;
    private String[] hsTokens;
    private String[] rsTokens;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException, JOSEException {
        key = new RSAKeyGenerator(2048).keyID("bench-1").generate();
        provider = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        issuer = "http://127.0.0.1:" + provider.getAddress().getPort() + "/realms/bench";
        String discovery = "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/certs\","
                + "\"id_token_signing_alg_values_supported\":[\"RS256\"]}";
        String jwks = new JWKSet(key).toPublicJWKSet().toString();
        provider.createContext("/realms/bench/.well-known/openid-configuration", exchange -> answer(exchange, discovery));
        provider.createContext("/realms/bench/certs", exchange -> answer(exchange, jwks));
        provider.start();
        hs256 = JwtAuthenticator.hs256(SECRET).issuer(issuer).audience("parley").cacheSize(0).build();
        oidc = OidcAuthenticator.issuer(issuer).audience("parley").cacheSize(0).build();
        hsTokens = new String[TOKENS];
        rsTokens = new String[TOKENS];
        for (int i = 0; i < TOKENS; i++) {
            hsTokens[i] = sign(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), new MACSigner(SECRET), i);
            rsTokens[i] = sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
                    new RSASSASigner(key), i);
        }
        if (hs256.authenticate(hsTokens[0]).isEmpty() || oidc.authenticate(rsTokens[0]).isEmpty()) {
            throw new IllegalStateException("the benchmark's tokens are not accepted");
        }
    }

    private String sign(JWSHeader header, com.nimbusds.jose.JWSSigner signer, int i) throws JOSEException {
        Instant now = Instant.now();
        SignedJWT jwt = new SignedJWT(header, new JWTClaimsSet.Builder().issuer(issuer).audience("parley").subject("user-" + i)
                .jwtID(UUID.randomUUID().toString()).issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(86_400))).build());
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static void answer(com.sun.net.httpserver.HttpExchange exchange, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        oidc.close();
        provider.stop(0);
    }

    private int nextIndex() {
        next = (next + 1) % TOKENS;
        return next;
    }

    /** HS256: the signature and claims of a token not seen before. */
    @Benchmark
    public Object hs256() {
        return hs256.authenticate(hsTokens[nextIndex()]).orElseThrow();
    }

    /** RS256 with the provider's key already cached: the signature and claims of a token not seen before. */
    @Benchmark
    public Object oidcCached() {
        return oidc.authenticate(rsTokens[nextIndex()]).orElseThrow();
    }

    /** A newly started authenticator's first token: discovery and the key set over HTTP, then the token verified. */
    @Benchmark
    public Object oidcFirst() {
        try (OidcAuthenticator fresh = OidcAuthenticator.issuer(issuer).audience("parley").cacheSize(0).build()) {
            return fresh.authenticate(rsTokens[nextIndex()]).orElseThrow();
        }
    }
}
