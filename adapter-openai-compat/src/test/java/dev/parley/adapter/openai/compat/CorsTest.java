package dev.parley.adapter.openai.compat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Browsers may call /v1 from the origins the API allows, with the SDKs' own request headers. */
class CorsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private CompatServer server;

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> preflight(String origin) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.base + "/v1/responses"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", origin).header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os").build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void should_allow_an_allowed_origins_preflight_with_the_headers_it_asks_for() throws Exception {
        server = CompatServer.start(ScriptedChatModel.echo(), c -> c.corsOrigins("https://app.example"));

        HttpResponse<String> allowed = preflight("https://app.example");
        HttpResponse<String> other = preflight("https://evil.example");

        assertThat(allowed.statusCode()).isEqualTo(204);
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).contains("https://app.example");
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Headers")).contains("authorization, content-type, x-stainless-os");
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("POST");
        assertThat(other.statusCode()).isEqualTo(204);
        assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }
}
