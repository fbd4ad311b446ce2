package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The agent picker of the demo page in a real Chromium: a user's own stored agent is offered for a
 * new thread in its own group, and the thread header names the agent and its version, as text.
 */
class AgentPickerBrowserIT extends BrowserTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void should_offer_the_users_own_agent_and_name_it_with_its_version_in_the_thread_header() throws Exception {
        // given
        String token = post("/dev/login", null, "{\"user\": \"gina\"}").path("token").asText();
        String agentId = post("/api/v1/agents", token,
                "{\"name\": \"<b>Support</b> desk\", \"instructions\": \"Be kind.\"}").path("id").asText();

        // when
        signIn("gina");
        await("gina's agent in the picker", d -> !d.findElements(By.cssSelector("#agent-select option[value='" + agentId + "']")).isEmpty());
        new Select(byTestId("agent-select")).selectByValue(agentId);
        send("hello");

        // then
        WebElement heading = byTestId("thread-agent");
        await("the header naming the agent and its version", d -> heading.getText().equals("agent: <b>Support</b> desk · latest v1"));
        List<WebElement> groups = driver.findElements(By.cssSelector("#agent-select optgroup"));
        assertThat(groups).extracting(g -> g.getAttribute("label")).containsExactly("Built-in", "Mine");
        assertThat(groups.get(1).findElement(By.tagName("option")).getText()).isEqualTo("<b>Support</b> desk (v1)");
        assertThat(driver.findElements(By.cssSelector("#thread-agent b, #agent-select b"))).isEmpty();
        screenshot("agent-picked");
    }

    private static JsonNode post(String path, String token, String body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 201);
        return JSON.readTree(response.body());
    }
}
