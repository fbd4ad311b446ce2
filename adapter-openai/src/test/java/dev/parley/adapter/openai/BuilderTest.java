package dev.parley.adapter.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BuilderTest {

    @Test
    void should_require_a_model() {
        assertThatThrownBy(() -> OpenAiChatModel.builder().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model");
    }

    @Test
    void should_require_a_model_when_configured_from_the_environment() {
        assertThatThrownBy(() -> OpenAiChatModel.fromEnvironment(Map.of("OPENAI_API_KEY", "k")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PARLEY_MODEL");
    }

    @Test
    void should_refuse_options_the_model_sets_itself() {
        assertThatThrownBy(() -> OpenAiChatModel.builder().option("messages", "x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAiChatModel.builder().option("stream", true))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_refuse_invalid_json_options_and_urls_and_timeouts() {
        assertThatThrownBy(() -> OpenAiChatModel.builder().optionJson("response_format", "{oops"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAiChatModel.builder().model("m").baseUrl("ftp://host/v1").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAiChatModel.builder().model("m").idleTimeout(Duration.ZERO).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OpenAiChatModel.builder().temperature(3))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_refuse_headers_the_http_client_controls() {
        assertThatThrownBy(() -> OpenAiChatModel.builder().model("m").header("Host", "example.com").build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_never_show_the_api_key_or_header_values_in_to_string() {
        // given
        OpenAiChatModel.Builder builder = OpenAiChatModel.builder().model("gpt-4o-mini")
                .apiKey("sk-proj-SECRET123").header("api-key", "AZURE-SECRET")
                .queryParameter("api-version", "2024-10-21");

        // when
        String shown = builder + " " + builder.build();

        // then
        assertThat(shown).doesNotContain("SECRET123").doesNotContain("AZURE-SECRET").contains("***").contains("api-key");
    }
}
