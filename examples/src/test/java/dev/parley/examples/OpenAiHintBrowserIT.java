package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.support.ui.Select;

/**
 * The page tells how to point an OpenAI client at the server: the /v1 base URL and, as the model,
 * the agent picked for new threads; what it shows works with the OpenAI-compatible facade.
 */
class OpenAiHintBrowserIT extends BrowserTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void should_show_the_v1_base_url_and_the_picked_agent_as_the_model_id() throws Exception {
        // given
        signIn("olga");
        String origin = server.url().substring(0, server.url().length() - 1);
        await("the base URL", d -> byTestId("openai-base-url").getText().equals(origin + "/v1"));
        await("the default agent as the model", d -> byTestId("openai-model").getText().equals("assistant"));

        // when
        new Select(byTestId("agent-select")).selectByValue("terse");

        // then
        await("the picked agent as the model", d -> byTestId("openai-model").getText().equals("terse"));
        assertThat(byTestId("openai-hint").isDisplayed()).isTrue();
        screenshot("openai-hint");
        // and a client given what the page shows gets an answer from that agent
        String token = call("POST", origin + "/dev/login", null, "{\"user\": \"olga\"}").path("token").asText();
        JsonNode response = call("POST", byTestId("openai-base-url").getText() + "/responses", token,
                "{\"model\": \"" + byTestId("openai-model").getText() + "\", \"input\": \"count to 3\"}");
        assertThat(response.path("model").asText()).isEqualTo("terse");
        assertThat(response.path("status").asText()).isEqualTo("completed");
        assertThat(response.at("/output/0/content/0/text").asText()).isEqualTo("1 2 3");
    }

    private static JsonNode call(String method, String url, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
