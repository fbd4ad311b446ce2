package dev.parley.adapter.http;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.http.OAuth2HttpRequest;
import no.nav.security.mock.oauth2.http.OAuth2HttpResponse;
import no.nav.security.mock.oauth2.http.Route;
import okhttp3.Headers;

/**
 * An OpenID Connect provider for tests: navikt's mock-oauth2-server (discovery, JWKS, token and
 * login endpoints) on an ephemeral port, issuer {@code <base>/default}. Its key set can be replaced
 * ({@link #rotateTo}), as a provider does when it rotates its signing keys; until then the server's
 * own key (kid {@code default}) is published. Close after each test.
 */
final class MockProvider implements AutoCloseable {
    static final String ISSUER_ID = "default";
    static final String AUDIENCE = "parley";

    final MockOAuth2Server server;
    private final PublishedKeys keys = new PublishedKeys();

    private MockProvider() {
        this.server = new MockOAuth2Server(new no.nav.security.mock.oauth2.OAuth2Config(), keys);
    }

    static MockProvider start() {
        MockProvider provider = new MockProvider();
        provider.server.start();
        return provider;
    }

    /** Starts on a given port (a provider that comes up after the server). */
    static MockProvider startOn(int port) {
        MockProvider provider = new MockProvider();
        provider.server.start(port);
        return provider;
    }

    String issuer() {
        return server.issuerUrl(ISSUER_ID).toString();
    }

    /** A token the provider issues for {@code subject} to {@link #AUDIENCE}, with extra claims. */
    String token(String subject, Map<String, Object> claims) {
        return server.issueToken(ISSUER_ID, subject, AUDIENCE, claims).serialize();
    }

    String token(String subject) {
        return token(subject, Map.of());
    }

    /** Claims as the provider sets them (issuer, audience, a subject, an hour's validity), for tokens signed elsewhere. */
    JWTClaimsSet.Builder claims(String subject) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(issuer()).audience(AUDIENCE).subject(subject)
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofHours(1))));
    }

    /** Publishes only {@code newKeys} from now on (the server's own key is no longer published). */
    void rotateTo(RSAKey... newKeys) {
        keys.published = new JWKSet(List.of(newKeys)).toPublicJWKSet().toString();
    }

    /** Times the key set was fetched. */
    int keySetFetches() {
        return keys.fetches.get();
    }

    static RSAKey newKey(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sign(RSAKey key, JWTClaimsSet.Builder claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
                    claims.build());
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.shutdown();
    }

    /** Serves the replaced key set at the provider's JWKS path once there is one; counts the key set requests. */
    private static final class PublishedKeys implements Route {
        volatile String published;
        final AtomicInteger fetches = new AtomicInteger();

        @Override
        public boolean match(OAuth2HttpRequest request) {
            boolean jwks = request.getUrl().encodedPath().equals("/" + ISSUER_ID + "/jwks");
            if (jwks) {
                fetches.incrementAndGet();
            }
            return jwks && published != null;
        }

        @Override
        public OAuth2HttpResponse invoke(OAuth2HttpRequest request) {
            return new OAuth2HttpResponse(Headers.of("Content-Type", "application/json"), 200, published, null);
        }
    }
}
