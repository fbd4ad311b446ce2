package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;
import org.slf4j.LoggerFactory;

/**
 * A failure on the page names the request that failed, so that a user can quote it and an operator
 * find its log lines (and its trace): in a real Chromium, the error banner shows the request id, and
 * it is the one in the server's log lines of that request's run.
 */
class RequestIdBrowserIT extends BrowserTestBase {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeEach
    void captureLogs() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        logs.setContext(context);
        logs.start();
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logs);
    }

    @Test
    void should_show_the_request_id_of_a_failed_run_that_the_servers_log_lines_carry() {
        // given
        signIn("quentin");

        // when the model fails the run
        send("/fail");

        // then the banner names the request, and the server's line about the failed run carries it
        WebElement requestLine = await("the request id in the error banner", d -> displayed(
                org.openqa.selenium.By.cssSelector("[data-testid=error-request]")));
        String shown = byTestId("error-request-id").getText();
        assertThat(byTestId("error-text").getText()).contains("model_error");
        assertThat(requestLine.getText()).contains("Request id " + shown);
        assertThat(shown).matches("req_[0-9a-f]{32}");
        await("the run's log line", d -> logs.list.stream().anyMatch(e -> shown.equals(e.getMDCPropertyMap().get("request_id"))
                && e.getFormattedMessage().contains("model error")) ? Boolean.TRUE : null);
        screenshot("failed-run-request-id");

        // and a later error that is no request's shows no request id from before
        driver.findElement(org.openqa.selenium.By.id("error-close")).click();
        await("the banner gone", d -> !byTestId("error-banner").isDisplayed());
        js("window.Parley.showError(new Error('The connection to the server was lost.'));");
        await("the next error", d -> byTestId("error-banner").isDisplayed());
        assertThat(byTestId("error-text").getText()).isEqualTo("The connection to the server was lost.");
        assertThat(byTestId("error-request").isDisplayed()).isFalse();
    }

    @Test
    void should_show_the_request_id_of_a_refused_request() throws Exception {
        // given a thread deleted from another tab
        signIn("rachel");
        send("hello");
        awaitAssistantText("You said: \"hello\" (1 word).");
        String token = (String) js("return JSON.parse(localStorage.getItem('parley.session')).token;");
        String threadId = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "api/v1/threads"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body())
                .path("data").get(0).path("id").asText();
        HttpResponse<String> deleted = HTTP.send(HttpRequest.newBuilder(URI.create(server.url() + "api/v1/threads/" + threadId))
                .header("Authorization", "Bearer " + token).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(deleted.statusCode()).isEqualTo(204);

        // when
        send("still there?");

        // then
        await("the refusal with its request id", d -> byTestId("error-banner").isDisplayed()
                && byTestId("error-text").getText().contains("thread_not_found") && byTestId("error-request").isDisplayed());
        assertThat(byTestId("error-request-id").getText()).matches("req_[0-9a-f]{32}")
                .isNotEqualTo(deleted.headers().firstValue("X-Request-Id").orElseThrow());
        screenshot("refused-request-id");
    }
}
