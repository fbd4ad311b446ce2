package dev.parley.benchmarks;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.parley.adapter.http.Authenticator;
import dev.parley.adapter.http.JwtAuthenticator;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;

/** The HS256 secret the bench server and its load generators share, and the tokens made with it. */
public final class Tokens {
    private static final byte[] SECRET = "parley-benchmarks-hs256-secret-0123456789".getBytes(StandardCharsets.UTF_8);

    private Tokens() {}

    /** What the server verifies tokens with (the same JWT verification as the demo server). */
    public static Authenticator authenticator() {
        return JwtAuthenticator.hs256(SECRET).build();
    }

    /** A bearer token for {@code user}, valid for a day. */
    public static String bearer(String user) {
        try {
            JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(user)
                    .expirationTime(Date.from(Instant.now().plusSeconds(86_400))).build();
            SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
            jwt.sign(new MACSigner(SECRET));
            return "Bearer " + jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The user a bare handler's request names in its {@code Authorization: Bearer} header, verified by
     * {@code authenticator}; empty when it has none or it does not verify.
     */
    static Optional<String> user(Authenticator authenticator, String authorization) {
        return authorization == null || !authorization.startsWith("Bearer ") ? Optional.empty()
                : authenticator.authenticate(authorization.substring(7));
    }
}
