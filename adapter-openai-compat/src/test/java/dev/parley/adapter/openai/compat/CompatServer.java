package dev.parley.adapter.openai.compat;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.parley.adapter.http.JwtAuthenticator;
import dev.parley.adapter.http.ParleyHttp;
import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.core.ChatServiceBuilder;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.Tool;
import io.javalin.Javalin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The Parley API and the OpenAI-compatible facade on one Javalin app on an ephemeral port, over the
 * real ChatService, the in-memory adapters and a scripted model; clients are the official SDK's.
 */
final class CompatServer implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String AGENT = "assistant";
    /** An agent whose {@code refund} tool needs a person's approval of each call. */
    static final String APPROVING_AGENT = "cashier";
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef-test-secret".getBytes(StandardCharsets.UTF_8);

    final ScriptedChatModel model;
    final ChatService service;
    final Javalin app;
    final String base;

    private CompatServer(ScriptedChatModel model, UnaryOperator<ChatServiceBuilder> customizeService,
                         UnaryOperator<ParleyHttp.Config.Builder> customize) {
        this.model = model;
        this.service = customizeService.apply(ChatService.builder()).store(InMemoryAdapters.store()).model(model)
                .agents(List.of(
                        Agent.builder(AGENT).name("Assistant").description("Answers questions").instructions("You are helpful.")
                                .tools(Tool.of("calculator", "Evaluates an expression", "{\"type\":\"object\"}", ctx -> "42"))
                                .build(),
                        Agent.builder(APPROVING_AGENT).name("Cashier").description("Refunds orders, with approval")
                                .tools(Tool.of("refund", "Refunds an order", "{\"type\":\"object\"}", ctx -> "refunded")
                                        .requiringApproval())
                                .build()))
                .prices(Map.of("scripted", ModelPrice.of("1", "2")))
                .build();
        ParleyHttp.Config config = customize.apply(ParleyHttp.config(service, JwtAuthenticator.hs256(SECRET).build())
                .rateLimitPerMinute(100_000)).build();
        this.app = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            ParleyHttp.problemErrors(cfg);
            ParleyHttp.install(cfg, config);
            OpenAiCompat.install(cfg, config);
        }).start(0);
        this.base = "http://localhost:" + app.port();
    }

    static CompatServer start(ScriptedChatModel model) {
        return new CompatServer(model, b -> b, c -> c);
    }

    static CompatServer start(ScriptedChatModel model, UnaryOperator<ParleyHttp.Config.Builder> customize) {
        return new CompatServer(model, b -> b, customize);
    }

    static CompatServer withService(ScriptedChatModel model, UnaryOperator<ChatServiceBuilder> customizeService) {
        return new CompatServer(model, customizeService, c -> c);
    }

    /** The official client, as {@code user} (its API key a Parley token), without retries. */
    OpenAIClient client(String user) {
        return clientWithKey(token(user));
    }

    OpenAIClient clientWithKey(String apiKey) {
        return OpenAIOkHttpClient.builder().apiKey(apiKey).baseUrl(base + OpenAiCompat.BASE).maxRetries(0).timeout(WAIT).build();
    }

    static String token(String user) {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(user).expirationTime(Date.from(Instant.now().plusSeconds(600))).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(new MACSigner(SECRET));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    @Override
    public void close() {
        app.stop();
        service.close();
    }
}
