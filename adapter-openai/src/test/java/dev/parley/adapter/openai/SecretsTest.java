package dev.parley.adapter.openai;

import static dev.parley.adapter.openai.Conversations.ask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.parley.chat.port.out.Cancellation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The API key appears in no log line, exception message or toString, whatever the outcome. */
class SecretsTest {
    private static final String KEY = "sk-live-ZXCV0987poiuLKJH";
    private static final Path LOG = Path.of("target", "adapter-openai-test.log");
    private final FakeChatServer server = new FakeChatServer();

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void should_keep_the_api_key_out_of_logs_messages_and_to_string() throws IOException {
        // given: the server echoes the key back in its errors, as some gateways do
        String echo = "{\"error\":{\"message\":\"Invalid key " + KEY + " for Bearer " + KEY + "\"}}";
        server.then(FakeChatServer.json(429, echo, "Retry-After", "0"))
                .then(FakeChatServer.events(Transcripts.OPENAI_TEXT))
                .then(FakeChatServer.json(401, echo))
                .then(FakeChatServer.json(500, echo))
                .then(FakeChatServer.json(500, echo))
                .then(FakeChatServer.events(List.of("{\"error\":{\"message\":\"" + KEY + "\"}}")))
                .then(FakeChatServer.hang());
        OpenAiChatModel.Builder builder = OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey(KEY)
                .model("gpt-4o-mini").header("api-key", KEY).maxRetries(1).initialBackoff(Duration.ofMillis(5));
        OpenAiChatModel model = builder.build();
        OpenAiChatModel impatient = builder.firstTokenTimeout(Duration.ofMillis(300)).build();
        List<String> shown = new ArrayList<>(List.of(model.toString(), builder.toString()));

        // when
        model.complete(ask("Hi"), new RecordingListener(), new Cancellation());
        for (OpenAiChatModel m : List.of(model, model, model, impatient)) {
            Throwable e = catchThrowable(() -> m.complete(ask("Hi"), new RecordingListener(), new Cancellation()));
            assertThat(e).isNotNull();
            shown.add(e.getMessage());
            shown.add(String.valueOf(e));
        }

        // then
        assertThat(server.received()).hasSize(7);
        assertThat(server.lastRequest().header("Authorization")).isEqualTo("Bearer " + KEY);
        assertThat(shown).allSatisfy(text -> assertThat(text).doesNotContain(KEY).doesNotContain("ZXCV0987"));
        String log = Files.readString(LOG, StandardCharsets.UTF_8);
        assertThat(log).contains("Chat completion").doesNotContain(KEY).doesNotContain("ZXCV0987");
    }
}
