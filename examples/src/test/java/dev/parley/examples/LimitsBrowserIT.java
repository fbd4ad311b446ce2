package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;

/**
 * A user at a per-user limit, in a real Chromium: a send refused because their answers going at
 * once reached the limit, and one refused because they hold the most live streams (here through
 * another client), each with a plain message in the error banner and the typed text kept.
 */
class LimitsBrowserIT extends BrowserTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<InputStream> held = new ArrayList<>();

    @BeforeAll
    static void restartWithSmallLimits() throws IOException {
        stop();
        start("20", Map.of("PARLEY_MAX_ACTIVE_RUNS_PER_USER", "1", "PARLEY_MAX_STREAMS_PER_USER", "2"), options -> { });
    }

    @AfterEach
    void closeHeldStreams() throws IOException {
        for (InputStream in : held) {
            in.close();
        }
    }

    @Test
    void should_say_so_when_a_send_is_refused_because_the_users_answers_going_at_once_reached_the_limit() {
        // given: one long answer going, the most allowed
        signIn("lena");
        send("count to 5000");
        await("the answer streaming", d -> streamingBubble().isPresent());

        // when another thread's message is sent meanwhile
        click("new-thread");
        send("hello");

        // then
        WebElement banner = await("the error banner", d -> displayed(org.openqa.selenium.By.cssSelector("[data-testid=error-banner]")));
        assertThat(text(banner, "error-text")).startsWith("Limit reached: at most 1 of your answers can be going at once")
                .contains("Try again in 5 s.");
        assertThat(byTestId("message-input").getAttribute("value")).isEqualTo("hello");
        assertThat(userTexts()).doesNotContain("hello");
        screenshot("too-many-active-runs");
    }

    @Test
    void should_say_so_when_a_stream_is_refused_because_the_user_holds_the_most_live_answers() throws Exception {
        // given: the user follows an answer twice elsewhere (another client), the most allowed
        String token = token("maya");
        HttpResponse<InputStream> chat = open(token, "POST", "/api/v1/chat", "{\"message\":\"count to 5000\",\"stream\":true}");
        String started = firstData(chat.body());
        var run = JSON.readTree(started);
        open(token, "GET", "/api/v1/threads/" + run.path("thread_id").asText() + "/runs/" + run.path("run_id").asText() + "/events",
                null);
        signIn("maya");

        // when the page asks for a third
        send("hello");

        // then
        WebElement banner = await("the error banner", d -> displayed(org.openqa.selenium.By.cssSelector("[data-testid=error-banner]")));
        assertThat(text(banner, "error-text")).startsWith("Limit reached: at most 2 live answers can be open at once for you")
                .contains("Try again in 2 s.");
        assertThat(byTestId("message-input").getAttribute("value")).isEqualTo("hello");
        screenshot("too-many-streams");
    }

    private String token(String user) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url() + "dev/login"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"" + user + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body()).path("token").asText();
    }

    /** An open event stream of the user, held until the test ends. */
    private HttpResponse<InputStream> open(String token, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
                .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream");
        if (body != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<InputStream> r = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        held.add(r.body());
        assertThat(r.statusCode()).isEqualTo(200);
        return r;
    }

    /** The data of the stream's first event. */
    private static String firstData(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b != '\n') {
                line.append((char) b);
                continue;
            }
            if (line.toString().startsWith("data: ")) {
                return line.substring("data: ".length());
            }
            line.setLength(0);
        }
        throw new AssertionError("the stream ended before its first event");
    }
}
