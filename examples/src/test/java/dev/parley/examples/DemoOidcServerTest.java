package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.examples.cluster.Poll;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.Test;

/** The demo with PARLEY_OIDC_*: an identity provider that comes up after the server, then its tokens over HTTP. */
class DemoOidcServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void should_answer_unavailable_until_the_provider_is_reachable_then_accept_its_tokens() throws Exception {
        // given a provider that is not up yet
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        MockOAuth2Server provider = new MockOAuth2Server();
        String issuer = "http://localhost:" + port + "/default";
        try (DemoServer server = DemoServer.start(DemoConfig.fromEnvironment(Map.of(
                "PARLEY_PORT", "0",
                "PARLEY_DB_URL", "jdbc:h2:mem:demo-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "PARLEY_OIDC_ISSUER", issuer,
                "PARLEY_OIDC_AUDIENCE", "parley",
                "PARLEY_OIDC_ROLES_CLAIM", "realm_access.roles",
                "PARLEY_OIDC_ADMIN_ROLE", "parley-admin",
                "PARLEY_OIDC_CLIENT_ID", "parley-web")))) {
            String base = "http://localhost:" + server.port();
            // then the server runs, but cannot tell tokens apart yet
            HttpResponse<String> threads = get(base + "/api/v1/threads", "a.b.c");
            assertThat(threads.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(threads.body()).get("code").asText()).isEqualTo("unavailable");
            HttpResponse<String> ready = get(base + "/ready", null);
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(ready.body()).get("detail").asText()).contains("identity provider", issuer, "not reachable yet");
            assertThat(get(base + "/oidc.json", null).statusCode()).isEqualTo(503);
            assertThat(get(base + "/dev/login", null).statusCode()).isEqualTo(404);

            // when the provider comes up
            provider.start(port);
            // generous: discovery is retried with growing pauses (up to a minute), and a loaded machine is slow
            Poll.until("the provider is discovered", Duration.ofSeconds(120), () -> get(base + "/ready", null).statusCode() == 200);

            // then its tokens are accepted, roles from the nested claim, and the page learns how to sign in
            String token = provider.issueToken("default", "alice", "parley",
                    Map.of("realm_access", Map.of("roles", java.util.List.of("parley-admin")))).serialize();
            assertThat(get(base + "/api/v1/threads", token).statusCode()).isEqualTo(200);
            HttpResponse<String> shared = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/agents"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"Team helper\",\"instructions\":\"Help the team.\",\"visibility\":\"shared\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(shared.statusCode()).as(shared.body()).isEqualTo(201);
            JsonNode login = JSON.readTree(get(base + "/oidc.json", null).body());
            assertThat(login.get("issuer").asText()).isEqualTo(issuer);
            assertThat(login.get("client_id").asText()).isEqualTo("parley-web");
            assertThat(login.get("token_endpoint").asText()).isEqualTo(provider.tokenEndpointUrl("default").toString());
            assertThat(get(base + "/", null).headers().firstValue("Content-Security-Policy").orElseThrow())
                    .contains("connect-src 'self'").contains("http://localhost:" + port);
            String otherIssuer = new MockOAuth2Server().getConfig().getTokenProvider()
                    .jwt(Map.of("iss", "http://elsewhere.example", "aud", "parley", "sub", "mallory")).serialize();
            assertThat(get(base + "/api/v1/threads", otherIssuer).statusCode()).isEqualTo(401);
        } finally {
            provider.shutdown();
        }
    }

    private static HttpResponse<String> get(String url, String token) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
