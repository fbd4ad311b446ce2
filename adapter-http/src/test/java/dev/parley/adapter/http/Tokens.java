package dev.parley.adapter.http;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.function.UnaryOperator;

/** Mints JWTs for tests. */
final class Tokens {
    static final byte[] SECRET = "0123456789abcdef0123456789abcdef-test-secret".getBytes(StandardCharsets.UTF_8);

    private Tokens() {}

    static String forUser(String user) {
        return hs256(SECRET, claims(user));
    }

    static JWTClaimsSet.Builder claims(String user) {
        return new JWTClaimsSet.Builder().subject(user).expirationTime(Date.from(Instant.now().plusSeconds(600)));
    }

    static String hs256(byte[] secret, JWTClaimsSet.Builder claims) {
        try {
            return sign(new JWSHeader(JWSAlgorithm.HS256), new MACSigner(secret), claims);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String rs256(KeyPair keys, JWTClaimsSet.Builder claims) {
        return sign(new JWSHeader(JWSAlgorithm.RS256), new RSASSASigner((RSAPrivateKey) keys.getPrivate()), claims);
    }

    static String es256(KeyPair keys, JWTClaimsSet.Builder claims) {
        try {
            return sign(new JWSHeader(JWSAlgorithm.ES256), new ECDSASigner((ECPrivateKey) keys.getPrivate()), claims);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An unsecured JWT: header {@code {"alg":"none"}}, empty signature. */
    static String unsigned(JWTClaimsSet.Builder claims) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(claims.build().toString().getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }

    static String sign(JWSHeader header, JWSSigner signer, JWTClaimsSet.Builder claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims.build());
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String with(String user, UnaryOperator<JWTClaimsSet.Builder> change) {
        return hs256(SECRET, change.apply(claims(user)));
    }

    static KeyPair rsaKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair ecKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
