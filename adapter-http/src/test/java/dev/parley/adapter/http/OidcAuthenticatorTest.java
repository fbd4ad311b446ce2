package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.PlainJWT;
import dev.parley.chat.port.in.Caller;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link OidcAuthenticator} against a real OpenID Connect provider (navikt's mock-oauth2-server) started in-process. */
class OidcAuthenticatorTest {
    private MockProvider provider = MockProvider.start();
    private OidcAuthenticator auth;

    @AfterEach
    void stop() {
        if (auth != null) {
            auth.close();
        }
        provider.close();
    }

    private OidcAuthenticator.Builder settings() {
        return OidcAuthenticator.issuer(provider.issuer()).audience(MockProvider.AUDIENCE)
                .jwksRefreshMinInterval(Duration.ZERO)
                .httpTimeout(TestServer.WAIT)
                .retryDelays(Duration.ofMillis(20), Duration.ofMillis(100));
    }

    /** The authenticator, once it has discovered the provider (on a loaded machine the first attempt may time out). */
    private static OidcAuthenticator ready(OidcAuthenticator.Builder builder) {
        OidcAuthenticator authenticator = builder.build();
        TestServer.eventually("the provider is discovered", authenticator::isReady);
        return authenticator;
    }

    @Test
    void should_discover_the_provider_and_accept_the_tokens_it_issues() throws Exception {
        // given
        auth = ready(settings());
        // when a client gets a token from the provider's token endpoint (client credentials: the client is the subject)
        provider.server.enqueueCallback(new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback(
                MockProvider.ISSUER_ID, "web", "JWT", List.of(MockProvider.AUDIENCE), Map.of("roles", List.of("admin")), 3600));
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(provider.server.tokenEndpointUrl(MockProvider.ISSUER_ID).toString()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=web&client_secret=secret&scope=parley"))
                .build(), HttpResponse.BodyHandlers.ofString());
        String accessToken = TestServer.JSON.readTree(response.body()).get("access_token").asText();
        // then
        assertThat(auth.isReady()).isTrue();
        assertThat(auth.caller(accessToken)).contains(Caller.admin("web"));
        assertThat(auth.caller(provider.token("bob"))).contains(Caller.user("bob"));
        assertThat(auth.endpoints()).contains(new OidcAuthenticator.Endpoints(
                provider.server.authorizationEndpointUrl(MockProvider.ISSUER_ID).toString(),
                provider.server.tokenEndpointUrl(MockProvider.ISSUER_ID).toString(),
                provider.server.endSessionEndpointUrl(MockProvider.ISSUER_ID).toString()));
    }

    @Test
    void should_refuse_other_issuers_audiences_expired_tokens_and_algorithm_confusion() throws Exception {
        auth = ready(settings());
        RSAKey providerKey = (RSAKey) provider.server.getConfig().getTokenProvider().publicJwkSet(MockProvider.ISSUER_ID).getKeys().get(0);
        List<String> refused = List.of(
                provider.server.issueToken("other", "alice", MockProvider.AUDIENCE, Map.of()).serialize(),
                provider.server.getConfig().getTokenProvider().jwt(Map.of("iss", "https://evil.example", "aud", MockProvider.AUDIENCE,
                        "sub", "alice")).serialize(),
                provider.server.issueToken(MockProvider.ISSUER_ID, "alice", "someone-else", Map.of()).serialize(),
                provider.server.getConfig().getTokenProvider().jwt(Map.of("iss", provider.issuer(), "aud", MockProvider.AUDIENCE,
                        "sub", "alice"), Duration.ofMinutes(-5)).serialize(),
                // alg confusion: HS256 "signed" with the provider's public key as the secret
                Tokens.sign(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(MockProvider.ISSUER_ID).type(JOSEObjectType.JWT).build(),
                        new MACSigner(providerKey.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)), provider.claims("alice")),
                new PlainJWT(provider.claims("alice").build()).serialize(),
                // a forged key under the provider's kid, and one under an unknown kid
                MockProvider.sign(MockProvider.newKey(MockProvider.ISSUER_ID), provider.claims("alice")),
                MockProvider.sign(MockProvider.newKey("forged"), provider.claims("alice")),
                provider.token("alice").replace('.', '!'));
        for (String token : refused) {
            assertThat(auth.caller(token)).as(token).isEmpty();
        }
        assertThat(auth.caller(provider.token("alice"))).contains(Caller.user("alice"));
    }

    @Test
    void should_pick_up_a_rotated_key_without_a_restart_and_refuse_the_removed_one() {
        // given a token of the provider's first key, verified and remembered
        auth = ready(settings());
        String beforeRotation = provider.token("alice");
        assertThat(auth.caller(beforeRotation)).contains(Caller.user("alice"));
        // when the provider rotates to a new key and removes the old one
        RSAKey next = MockProvider.newKey("2026-12");
        provider.rotateTo(next);
        // then a token of the new key is accepted (its unknown kid fetches the key set again)
        assertThat(auth.caller(MockProvider.sign(next, provider.claims("bob")))).contains(Caller.user("bob"));
        // and tokens of the removed key are refused, the remembered one too
        assertThat(auth.caller(provider.token("carol"))).isEmpty();
        assertThat(auth.caller(beforeRotation)).isEmpty();
    }

    @Test
    void should_read_the_user_from_a_configured_claim_and_roles_from_a_nested_claim() {
        auth = ready(settings().claims(ClaimMapping.defaults().withUserClaim("oid").withRolesClaim("realm_access.roles")
                .withAdminRole("parley-admin")));
        String admin = provider.token("sub-1", Map.of("oid", "0f3c-alice", "realm_access", Map.of("roles", List.of("parley-admin", "reader"))));
        String literalAdmin = provider.token("sub-2", Map.of("oid", "0f3c-bob", "realm_access", Map.of("roles", List.of("admin"))));
        String noUser = provider.token("sub-3", Map.of("realm_access", Map.of("roles", List.of("reader"))));
        assertThat(auth.caller(admin)).contains(new Caller("0f3c-alice", java.util.Set.of("parley-admin", Caller.ADMIN, "reader")));
        assertThat(auth.caller(admin).orElseThrow().isAdmin()).isTrue();
        assertThat(auth.caller(literalAdmin)).contains(Caller.user("0f3c-bob"));
        assertThat(auth.caller(noUser)).isEmpty();
    }

    @Test
    void should_keep_serving_the_cached_keys_while_the_provider_is_down() {
        // given keys that are due for a refetch at every use
        auth = ready(settings().jwksCacheLifespan(Duration.ofMillis(1)));
        String issuedBeforeTheOutage = provider.token("alice");
        assertThat(auth.caller(provider.token("bob"))).contains(Caller.user("bob"));
        // when the provider goes away
        provider.close();
        // then its tokens still verify with the last key set, and unknown keys are still refused
        assertThat(auth.caller(issuedBeforeTheOutage)).contains(Caller.user("alice"));
        assertThat(auth.caller(MockProvider.sign(MockProvider.newKey("unknown"), provider.claims("mallory")))).isEmpty();
        assertThat(auth.keySetFetches()).isGreaterThan(1);
    }

    @Test
    void should_limit_key_set_fetches_for_unknown_kids() {
        auth = ready(settings().jwksRefreshMinInterval(Duration.ofMinutes(1)));
        int before = provider.keySetFetches();
        for (int i = 0; i < 20; i++) {
            assertThat(auth.caller(MockProvider.sign(MockProvider.newKey("forged-" + i), provider.claims("mallory")))).isEmpty();
        }
        assertThat(provider.keySetFetches() - before).isLessThanOrEqualTo(2);
        assertThat(auth.caller(provider.token("alice"))).contains(Caller.user("alice"));
    }

    @Test
    void should_retry_an_unreachable_issuer_in_the_background_and_answer_unavailable_meanwhile() throws IOException {
        // given an issuer that is not up yet
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        provider.close();
        auth = OidcAuthenticator.issuer("http://localhost:" + port + "/" + MockProvider.ISSUER_ID).audience(MockProvider.AUDIENCE)
                .httpTimeout(TestServer.WAIT).retryDelays(Duration.ofMillis(20), Duration.ofMillis(100)).build();
        // then
        assertThat(auth.isReady()).isFalse();
        assertThatThrownBy(auth::checkReady).isInstanceOf(IdentityProviderUnavailableException.class)
                .hasMessageContaining("http://localhost:" + port + "/default").hasMessageContaining("not reachable yet");
        assertThatThrownBy(() -> auth.caller("a.b.c")).isInstanceOf(IdentityProviderUnavailableException.class);
        // when it comes up
        provider = MockProvider.startOn(port);
        TestServer.eventually("the provider is discovered", auth::isReady);
        // then
        auth.checkReady();
        assertThat(auth.caller(provider.token("alice"))).contains(Caller.user("alice"));
    }

    @Test
    void should_answer_unavailable_over_http_until_the_provider_is_discovered_and_say_why_in_ready() throws IOException {
        // given an API whose identity provider is not up yet
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        provider.close();
        auth = OidcAuthenticator.issuer("http://localhost:" + port + "/" + MockProvider.ISSUER_ID).audience(MockProvider.AUDIENCE)
                .httpTimeout(TestServer.WAIT).retryDelays(Duration.ofMillis(20), Duration.ofMillis(100)).build();
        OidcAuthenticator oidc = auth;
        try (TestServer server = TestServer.start(dev.parley.adapter.inmemory.ScriptedChatModel.echo(),
                c -> new ParleyHttp.Config.Builder(c.build().chat(), oidc).readinessCheck(oidc::checkReady))) {
            // then
            TestServer.Response threads = server.request("GET", "/api/v1/threads").header("Authorization", "Bearer a.b.c").send();
            assertThat(threads.status()).isEqualTo(503);
            assertThat(threads.json().get("code").asText()).isEqualTo("unavailable");
            TestServer.Response ready = server.request("GET", "/ready").send();
            assertThat(ready.status()).isEqualTo(503);
            assertThat(ready.json().get("detail").asText()).contains("identity provider", "not reachable yet");
            // when it comes up
            provider = MockProvider.startOn(port);
            TestServer.eventually("the provider is discovered", oidc::isReady);
            // then
            assertThat(server.request("GET", "/ready").send().status()).isEqualTo(200);
            TestServer.Response mine = server.request("GET", "/api/v1/threads").header("Authorization", "Bearer " + provider.token("alice")).send();
            assertThat(mine.status()).as(mine.body()).isEqualTo(200);
            TestServer.Response bad = server.request("GET", "/api/v1/threads")
                    .header("Authorization", "Bearer " + MockProvider.sign(MockProvider.newKey("forged"), provider.claims("alice"))).send();
            assertThat(bad.status()).isEqualTo(401);
        }
    }

    @Test
    void should_refuse_an_issuer_that_is_not_an_http_url_and_a_document_naming_another_issuer() {
        assertThatThrownBy(() -> OidcAuthenticator.issuer("id.example")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OidcAuthenticator.issuer("ftp://id.example")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OidcDiscovery.parse("https://id.example", TestServer.parse(
                "{\"issuer\":\"https://evil.example\",\"jwks_uri\":\"https://evil.example/jwks\"}")))
                .isInstanceOf(IOException.class).hasMessageContaining("evil.example");
    }

    @Test
    void should_take_only_asymmetric_algorithms_from_the_provider_metadata() throws IOException {
        OidcDiscovery discovery = OidcDiscovery.parse("https://id.example/", TestServer.parse(
                "{\"issuer\":\"https://id.example\",\"jwks_uri\":\"https://id.example/jwks\","
                        + "\"id_token_signing_alg_values_supported\":[\"none\",\"HS256\",\"RS256\",\"ES384\",\"EdDSA\"]}"));
        assertThat(discovery.algorithms()).containsExactlyInAnyOrder(JWSAlgorithm.RS256, JWSAlgorithm.ES384);
        OidcDiscovery silent = OidcDiscovery.parse("https://id.example", TestServer.parse(
                "{\"issuer\":\"https://id.example\",\"jwks_uri\":\"https://id.example/jwks\"}"));
        assertThat(silent.algorithms()).containsExactly(JWSAlgorithm.RS256);
    }
}
