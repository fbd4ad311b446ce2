package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.UnexpectedAlertBehaviour;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The demo page and {@code /docs} under their Content-Security-Policy in a real headless Chromium
 * (Debian's {@code chromium} and {@code chromium-driver}), read through the browser's console, where
 * Chromium reports every violation: both work with none; hostile text in a message, a title and a
 * tool argument stays text after a reload; the page refuses to render in a frame of another origin.
 * Without Chromium the test is skipped, except on CI ({@code CI=true}) where it fails.
 */
class SecurityBrowserIT extends BrowserTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** One of each way markup can run script: an image's onerror, a script tag, a javascript: link, an SVG's onload. */
    private static final String IMG = "<img src=x onerror=alert(1)>";
    private static final String SCRIPT = "<script>alert(2)</script>";
    private static final String LINK = "<a href=\"javascript:alert(3)\">click</a>";
    private static final String SVG = "<svg onload=alert(4)>";
    private static final String PAYLOAD = IMG + " " + SCRIPT + " " + LINK + " " + SVG;
    /** What must not exist in the page's content: markup made from what users or models wrote. */
    private static final String INJECTED = "#thread-list img, #thread-list script, #thread-list svg, #thread-list a, #thread-list iframe,"
            + " #message-list img, #message-list script, #message-list svg, #message-list a, #message-list iframe,"
            + " #trace-list img, #trace-list script, #trace-list svg, #trace-list a, #trace-list iframe,"
            + " #thread-heading *, [onerror], [onload], a[href^='javascript:' i]";

    private static HttpServer framer;

    @BeforeAll
    static void restartWithTheConsoleRecorded() throws IOException {
        stop();
        start("0", options -> {
            // the console, where Chromium reports every CSP violation and refused frame
            LoggingPreferences logs = new LoggingPreferences();
            logs.enable(LogType.BROWSER, Level.ALL);
            options.setCapability("goog:loggingPrefs", logs);
            // an alert must stay open for the test to see it, not be dismissed by the driver
            options.setUnhandledPromptBehaviour(UnexpectedAlertBehaviour.IGNORE);
        });
    }

    @AfterAll
    static void stopFramer() {
        if (framer != null) {
            framer.stop(0);
            framer = null;
        }
    }

    @Override
    void beforeReload() {
        console(); // what came before is not this test's; its own page load is
    }

    @Override
    String screenshotPrefix() {
        return "security-";
    }

    // ------------------------------------------------------------------ the page

    @Test
    void should_run_the_chat_page_and_its_websocket_under_the_policy_without_a_violation() {
        // given
        signIn("carol");
        // when: a streamed answer with a tool call (fetch and its event stream), then the WebSocket
        send("calculate 6*7");
        await("the answer", d -> finishedAssistantTexts().contains("6*7 = 42"));
        String token = (String) js("return JSON.parse(localStorage.getItem('parley.session')).token;");
        Object frame = ((JavascriptExecutor) driver).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws');
                ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: arguments[0] }));
                ws.onmessage = (e) => { ws.close(); done(e.data); };
                ws.onerror = () => done('error');
                """, token);
        // then
        assertThat(String.valueOf(frame)).contains("\"session_start\"");
        assertThat(cspViolations(console())).isEmpty();
    }

    @Test
    void should_see_a_violation_in_the_console_when_the_page_breaks_its_policy() {
        // given the page, signed out
        await("the sign-in form", d -> displayed(By.cssSelector("[data-testid=login-user]")));
        // when an inline script and a connection to another host are tried in it
        js("const s = document.createElement('script'); s.textContent = 'window.inlineRan = true;'; document.body.append(s);");
        js("try { new WebSocket('ws://127.0.0.1:" + server.port() + "/api/v1/ws'); } catch (e) { window.wsRefused = String(e); }");
        // then both are refused and reported, so the console check of the other tests can see a violation
        assertThat(js("return window.inlineRan === true;")).isEqualTo(false);
        List<String> violations = new ArrayList<>();
        await("the reported violations", d -> {
            violations.addAll(cspViolations(console()));
            return violations.stream().anyMatch(v -> v.contains("script-src"))
                    && violations.stream().anyMatch(v -> v.contains("connect-src"));
        });
    }

    @Test
    void should_render_hostile_text_in_a_message_a_title_and_a_tool_argument_as_text_after_a_reload() throws Exception {
        // given hostile text in a message (and its echo), a tool call's arguments and the thread's title
        signIn("mallory");
        send(PAYLOAD);
        await("the echo", d -> finishedAssistantTexts().stream().anyMatch(t -> t.startsWith("You said:")));
        send("calculate " + PAYLOAD);
        await("the tool call's end", d -> driver.findElements(By.cssSelector("[data-testid=trace-item]")).stream()
                .anyMatch(t -> !"in_progress".equals(t.getAttribute("data-status"))));
        String token = (String) js("return JSON.parse(localStorage.getItem('parley.session')).token;");
        String threadId = api("GET", "/api/v1/threads", token, null).get("data").get(0).get("id").asText();
        api("PATCH", "/api/v1/threads/" + threadId, token, JSON.createObjectNode().put("title", PAYLOAD).toString());

        // when the page loads it all again
        driver.get(server.url());
        WebElement thread = await("the thread", d -> threadItems().stream()
                .filter(i -> threadId.equals(i.getAttribute("data-thread-id"))).findFirst().orElse(null));
        thread.click();
        await("the history", d -> driver.findElements(By.cssSelector("[data-testid=trace-item]")).size() == 1
                && !finishedAssistantTexts().isEmpty());
        screenshot("hostile-history");

        // then every piece shows as the text it is
        assertNoAlert();
        WebElement listed = threadItems().stream().filter(i -> threadId.equals(i.getAttribute("data-thread-id"))).findFirst()
                .orElseThrow();
        assertThat(text(listed, "thread-title")).isEqualTo(PAYLOAD);
        assertThat(driver.findElement(By.cssSelector("[data-testid=thread-heading]")).getText()).isEqualTo(PAYLOAD);
        assertThat(driver.findElements(By.cssSelector("[data-testid=message][data-role=user] [data-testid=message-text]")))
                .extracting(WebElement::getText).contains(PAYLOAD, "calculate " + PAYLOAD);
        assertThat(finishedAssistantTexts()).anyMatch(t -> t.contains(PAYLOAD));
        assertThat(text(driver.findElement(By.cssSelector("[data-testid=trace-item]")), "trace-arguments")).contains(IMG, SCRIPT, SVG)
                .contains("javascript:alert(3)");
        // and none of it became markup, ran, or was even tried (a blocked inline handler would be a violation)
        assertThat(driver.findElements(By.cssSelector(INJECTED))).isEmpty();
        assertThat(js("return Array.from(document.scripts).map(s => s.getAttribute('src')).join(',');")).isEqualTo("/app.js,/tree.js");
        assertThat(cspViolations(console())).isEmpty();
    }

    // ------------------------------------------------------------------ /docs

    @Test
    void should_run_the_docs_and_try_an_operation_under_their_policy_without_a_violation() {
        // when
        driver.get(server.url() + "docs");
        WebElement health = await("the operations from /openapi.json", d -> displayed(By.id("operations-health-health")));
        assertThat(driver.findElements(By.cssSelector(".opblock")).size()).isGreaterThan(10);
        health.findElement(By.cssSelector(".opblock-summary-control")).click();
        await("try it out", d -> displayed(By.cssSelector("#operations-health-health .try-out__btn"))).click();
        await("execute", d -> displayed(By.cssSelector("#operations-health-health .execute"))).click();
        WebElement status = await("the live answer", d -> displayed(By.cssSelector(
                "#operations-health-health .live-responses-table tbody .response-col_status")));
        screenshot("docs");
        // then
        assertThat(status.getText()).startsWith("200");
        assertThat(cspViolations(console())).isEmpty();
    }

    // ------------------------------------------------------------------ framing

    @Test
    void should_refuse_to_render_the_page_in_a_frame_of_another_origin() throws Exception {
        // given a page on another origin (another host and port) that frames the demo, and a frame of its own as a control
        framer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        String framing = "<!doctype html><title>framer</title>"
                + "<iframe id=\"control\" src=\"/inner\" width=\"400\" height=\"200\"></iframe>"
                + "<iframe id=\"victim\" src=\"" + server.url() + "\" width=\"800\" height=\"600\"></iframe>";
        serve("/", framing);
        serve("/inner", "<!doctype html><title>inner</title><p id=\"inner\">a frame that may be framed</p>");
        framer.start();
        String framerUrl = "http://127.0.0.1:" + framer.getAddress().getPort() + "/";

        // when
        driver.get(framerUrl);

        // then Chromium refuses the demo's frame, and says why
        List<String> refusals = new ArrayList<>();
        await("the refused frame", d -> {
            console().stream().map(LogEntry::getMessage).filter(m -> m.contains("frame-ancestors")).forEach(refusals::add);
            return !refusals.isEmpty();
        });
        assertThat(refusals.get(0)).contains(server.url(), "frame-ancestors 'none'", "blocked");
        screenshot("framed");
        driver.switchTo().frame("control");
        assertThat(driver.findElements(By.id("inner"))).hasSize(1);
        driver.switchTo().defaultContent();
        driver.switchTo().frame("victim");
        assertThat(driver.findElements(By.cssSelector("[data-testid=login-user]"))).isEmpty();
        assertThat(driver.findElements(By.cssSelector("[data-testid=chat-view]"))).isEmpty();
        driver.switchTo().defaultContent();
    }

    // ------------------------------------------------------------------ helpers

    private static void serve(String path, String html) {
        byte[] body = html.getBytes(StandardCharsets.UTF_8);
        framer.createContext(path, exchange -> {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
    }

    /** The console entries since the last call (reading them empties Chromium's buffer). */
    private static List<LogEntry> console() {
        return driver.manage().logs().get(LogType.BROWSER).getAll();
    }

    /** The entries that report a Content-Security-Policy violation. */
    private static List<String> cspViolations(List<LogEntry> entries) {
        return entries.stream().map(LogEntry::getMessage)
                .filter(m -> m.contains("Content Security Policy") || m.contains("Content-Security-Policy"))
                .toList();
    }

    private static void assertNoAlert() {
        assertThatThrownBy(() -> driver.switchTo().alert()).as("an alert opened").isInstanceOf(NoAlertPresentException.class);
    }

    private static JsonNode api(String method, String path, String token, String json) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + server.port() + path))
                .header("Authorization", "Bearer " + token)
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private List<String> finishedAssistantTexts() {
        return driver.findElements(By.cssSelector("[data-testid=message][data-role=assistant]")).stream()
                .filter(b -> b.getAttribute("data-streaming") == null)
                .map(WebElement::getText).toList();
    }
}
