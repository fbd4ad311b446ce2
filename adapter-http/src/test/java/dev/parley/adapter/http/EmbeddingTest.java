package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.port.out.Agent;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddingTest {

    @Test
    void should_mount_beside_the_embedders_own_routes() throws Exception {
        // given
        var store = InMemoryAdapters.store();
        try (var bus = InMemoryAdapters.eventBus(store.events());
             ChatService chat = ChatService.builder().store(store).eventBus(bus).model(ScriptedChatModel.echo())
                     .agents(List.of(Agent.builder("helper").name("Helper").build())).build()) {
            ParleyHttp.Config config = ParleyHttp.config(chat, JwtAuthenticator.hs256(Tokens.SECRET).build()).build();
            Javalin app = Javalin.create(cfg -> {
                cfg.concurrency.useVirtualThreads = true;
                ParleyHttp.install(cfg, config);
                cfg.routes.get("/hello", ctx -> ctx.result("hello"));
            }).start(0);
            try {
                HttpClient client = HttpClient.newHttpClient();
                String base = "http://localhost:" + app.port();
                // when
                HttpResponse<String> own = client.send(HttpRequest.newBuilder(URI.create(base + "/hello")).build(), HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> agents = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/agents")).build(),
                        HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> threads = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/threads"))
                        .header("Authorization", "Bearer " + Tokens.forUser("alice")).build(), HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> unknown = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/unknown")).build(),
                        HttpResponse.BodyHandlers.ofString());
                // then
                assertThat(own.body()).isEqualTo("hello");
                assertThat(agents.body()).contains("\"id\":\"helper\"");
                assertThat(threads.statusCode()).isEqualTo(200);
                assertThat(unknown.statusCode()).isEqualTo(404);
                assertThat(unknown.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
            } finally {
                app.stop();
            }
        }
    }
}
