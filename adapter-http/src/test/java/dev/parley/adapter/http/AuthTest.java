package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthTest {

    @Test
    void should_accept_a_valid_hs256_token_and_answer_its_subject() {
        Authenticator auth = JwtAuthenticator.hs256(Tokens.SECRET).build();
        assertThat(auth.authenticate(Tokens.forUser("alice"))).contains("alice");
    }

    @Test
    void should_refuse_every_broken_hs256_token() {
        Authenticator auth = JwtAuthenticator.hs256(Tokens.SECRET).issuer("https://id.example").audience("parley").build();
        java.util.function.UnaryOperator<com.nimbusds.jwt.JWTClaimsSet.Builder> good = c -> c.issuer("https://id.example").audience("parley");
        assertThat(auth.authenticate(Tokens.with("alice", good))).contains("alice");
        byte[] otherSecret = "another-secret-another-secret-another!!".getBytes();
        List<String> bad = List.of(
                "",
                "not.a.jwt",
                "garbage",
                Tokens.with("alice", c -> good.apply(c).expirationTime(Date.from(Instant.now().minusSeconds(120)))),
                Tokens.with("alice", c -> good.apply(c).expirationTime(null)),
                Tokens.with("alice", c -> good.apply(c).subject(null)),
                Tokens.with("alice", c -> good.apply(c).notBeforeTime(Date.from(Instant.now().plusSeconds(600)))),
                Tokens.with("alice", c -> good.apply(c).issuer("https://evil.example")),
                Tokens.with("alice", c -> good.apply(c).audience("someone-else")),
                Tokens.with("alice", c -> c.issuer("https://id.example")),
                Tokens.hs256(otherSecret, good.apply(Tokens.claims("alice"))),
                Tokens.unsigned(good.apply(Tokens.claims("alice"))),
                tamper(Tokens.with("alice", good)));
        for (String token : bad) {
            assertThat(auth.authenticate(token)).as(token).isEmpty();
        }
    }

    @Test
    void should_tolerate_a_small_clock_skew_on_expiry() {
        Authenticator auth = JwtAuthenticator.hs256(Tokens.SECRET).build();
        String justExpired = Tokens.with("alice", c -> c.expirationTime(Date.from(Instant.now().minusSeconds(5))));
        assertThat(auth.authenticate(justExpired)).contains("alice");
    }

    @Test
    void should_verify_rs256_and_es256_and_refuse_algorithm_confusion(@TempDir Path dir) throws Exception {
        KeyPair rsa = Tokens.rsaKeys();
        KeyPair ec = Tokens.ecKeys();
        Authenticator byKey = JwtAuthenticator.publicKey(rsa.getPublic()).build();
        assertThat(byKey.authenticate(Tokens.rs256(rsa, Tokens.claims("alice")))).contains("alice");
        assertThat(JwtAuthenticator.publicKey(ec.getPublic()).build().authenticate(Tokens.es256(ec, Tokens.claims("eve")))).contains("eve");
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(rsa.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        assertThat(JwtAuthenticator.publicKeyPem(pem).build().authenticate(Tokens.rs256(rsa, Tokens.claims("alice")))).contains("alice");
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(new RSAKey.Builder((RSAPublicKey) rsa.getPublic()).keyID("k1").build()).toString());
        Authenticator byJwks = JwtAuthenticator.jwksFile(jwks).build();
        assertThat(byJwks.authenticate(Tokens.rs256(rsa, Tokens.claims("alice")))).contains("alice");
        // algorithm confusion: an HS256 token whose "secret" is the public key
        String confused = Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(),
                new MACSigner(rsa.getPublic().getEncoded()), Tokens.claims("mallory"));
        assertThat(byKey.authenticate(confused)).isEmpty();
        assertThat(byJwks.authenticate(confused)).isEmpty();
        assertThat(byKey.authenticate(Tokens.unsigned(Tokens.claims("mallory")))).isEmpty();
        assertThat(byKey.authenticate(Tokens.rs256(Tokens.rsaKeys(), Tokens.claims("mallory")))).isEmpty();
        assertThat(byKey.authenticate(Tokens.es256(ec, Tokens.claims("mallory")))).isEmpty();
        // an RS256 authenticator must not take HS256 tokens at all, and the reverse
        assertThat(JwtAuthenticator.hs256(Tokens.SECRET).build().authenticate(Tokens.rs256(rsa, Tokens.claims("alice")))).isEmpty();
    }

    @Test
    void should_refuse_weak_secrets() {
        assertThatThrownBy(() -> JwtAuthenticator.hs256("short".getBytes())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_answer_401_with_www_authenticate_for_missing_or_bad_tokens() {
        try (TestServer server = TestServer.start(ScriptedChatModel.echo())) {
            var missing = server.get(null, "/api/v1/threads");
            assertThat(missing.status()).isEqualTo(401);
            assertThat(missing.json().get("code").asText()).isEqualTo("unauthorized");
            assertThat(missing.header("WWW-Authenticate")).startsWith("Bearer");
            for (String header : List.of("Bearer", "Bearer not.a.jwt", "Basic YWxpY2U6cHc=", "Bearer " + Tokens.unsigned(Tokens.claims(ALICE)),
                    "Bearer " + Tokens.with(ALICE, c -> c.expirationTime(Date.from(Instant.now().minusSeconds(3600)))))) {
                var r = server.request("GET", "/api/v1/threads").header("Authorization", header).send();
                assertThat(r.status()).as(header).isEqualTo(401);
                assertThat(r.header("WWW-Authenticate")).contains("Bearer");
            }
            var lowercase = server.request("GET", "/api/v1/threads").header("Authorization", "bearer " + Tokens.forUser(ALICE)).send();
            assertThat(lowercase.status()).isEqualTo(200);
        }
    }

    @Test
    void should_answer_429_with_retry_after_once_the_users_bucket_is_empty() {
        try (TestServer server = TestServer.start(ScriptedChatModel.echo(), c -> c.rateLimitPerMinute(3))) {
            for (int i = 0; i < 3; i++) {
                assertThat(server.get(ALICE, "/api/v1/threads").status()).isEqualTo(200);
            }
            var limited = server.get(ALICE, "/api/v1/threads");
            assertThat(limited.status()).isEqualTo(429);
            assertThat(limited.json().get("code").asText()).isEqualTo("rate_limited");
            assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 60);
            assertThat(server.get(TestServer.BOB, "/api/v1/threads").status()).isEqualTo(200);
            assertThat(server.get(null, "/api/v1/agents").status()).isEqualTo(200);
        }
    }

    @Test
    void should_answer_500_with_only_a_correlation_id_when_something_unexpected_fails() {
        Authenticator broken = token -> {
            throw new IllegalStateException("boom in com.example.SecretThing at jdbc:postgresql://db");
        };
        try (TestServer server = TestServer.start(ScriptedChatModel.echo(), c -> new ParleyHttp.Config.Builder(c.build().chat(), broken))) {
            var r = server.request("GET", "/api/v1/threads").as(ALICE).header("X-Request-Id", "trace-123").send();
            assertThat(r.status()).isEqualTo(500);
            assertThat(r.json().get("code").asText()).isEqualTo("internal_error");
            assertThat(r.json().get("request_id").asText()).isEqualTo("trace-123");
            assertThat(r.header("X-Request-Id")).isEqualTo("trace-123");
            assertThat(r.body()).doesNotContain("boom", "com.example", "jdbc", "Exception", "at ");
        }
    }

    private static String tamper(String token) {
        String[] parts = token.split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1])).replace("alice", "admin");
        return parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes()) + "." + parts[2];
    }

    @Test
    void should_treat_an_authenticator_refusal_as_401() {
        Authenticator nobody = token -> Optional.empty();
        try (TestServer server = TestServer.start(ScriptedChatModel.echo(), c -> new ParleyHttp.Config.Builder(c.build().chat(), nobody))) {
            assertThat(server.get(ALICE, "/api/v1/threads").status()).isEqualTo(401);
        }
    }
}
