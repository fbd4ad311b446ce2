package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The page for people who use a keyboard or assistive technology: an axe-core scan (the npm
 * package, as a WebJar) of the signed-out view and of the chat view on a desktop and on a phone
 * finds no serious or critical violation, and sending, stopping and switching threads work with
 * the keyboard alone.
 */
class AccessibilityBrowserIT extends BrowserTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void should_pass_axe_on_the_signed_out_and_the_chat_views() {
        viewport(1280, 800);
        await("the sign-in form", d -> displayed(By.cssSelector("[data-testid=login-user]")));
        assertNoSeriousViolations("signed out, 1280 px");
        js("document.getElementById('token-login').open = true;");
        assertNoSeriousViolations("signed out with the token form, 1280 px");

        signIn("axe");
        assertNoSeriousViolations("empty chat, 1280 px");
        // a history with every kind of item: answer, tool call and result, failure, cancel
        send("Hello there");
        awaitAssistantText("You said: \"Hello there\" (2 words).");
        send("calculate 6*7");
        awaitAssistantText("6*7 = 42");
        send("/fail");
        await("the error banner", d -> displayed(By.cssSelector("[data-testid=error-banner]")));
        send("count to 5000");
        await("the count to start", d -> streamingBubble().isPresent());
        assertNoSeriousViolations("chat while a run streams, 1280 px");
        click("stop-button");
        await("the cancelled run", d -> runMetas().stream().anyMatch(m -> "cancelled".equals(m.getAttribute("data-run-status"))));
        click("new-thread");
        send("a second thread");
        awaitAssistantText("You said: \"a second thread\" (3 words).");
        clickInThread("Hello there", "thread-open");
        await("the history", d -> assistantTexts().contains("6*7 = 42"));
        js("window.scrollTo(0, 0);");
        assertThat(displayed(By.cssSelector("[data-testid=error-banner]"))).isNull();
        screenshot("axe-chat-1280");
        assertNoSeriousViolations("chat with history, 1280 px");
        driver.findElement(By.cssSelector("[data-testid=thread-item].active [data-testid=thread-rename]")).click();
        await("the rename box", d -> displayed(By.cssSelector("[data-testid=rename-input]")));
        assertNoSeriousViolations("renaming a thread, 1280 px");
        new Actions(driver).sendKeys(Keys.ESCAPE).perform();

        viewport(375, 700);
        await("the phone layout", d -> byTestId("menu-button").isDisplayed());
        assertNoSeriousViolations("chat with history, 375 px");
        click("menu-button");
        await("the drawer", d -> displayed(By.cssSelector("[data-testid=sidebar]")));
        screenshot("axe-drawer-375");
        assertNoSeriousViolations("thread drawer, 375 px");
        click("drawer-close");
        click("trace-button");
        await("the trace sheet", d -> displayed(By.cssSelector("[data-testid=trace-item]")));
        screenshot("axe-sheet-375");
        assertNoSeriousViolations("tool-call sheet, 375 px");

        click("trace-close");
        click("menu-button");
        await("the drawer", d -> displayed(By.cssSelector("[data-testid=agents-button]")));
        click("agents-button");
        await("the agent editor", d -> displayed(By.cssSelector("[data-testid=agent-form]")));
        click("variable-add");
        byTestId("agent-temperature").sendKeys("9");
        click("agent-save");
        await("the field errors", d -> displayed(By.cssSelector("[data-testid=agent-form] .field-error")));
        screenshot("axe-editor-375");
        assertNoSeriousViolations("agent editor with field errors, 375 px");
        click("editor-close");
        click("sign-out");
        await("the sign-in form", d -> displayed(By.cssSelector("[data-testid=login-user]")));
        assertNoSeriousViolations("signed out, 375 px");
    }

    @Test
    void should_send_stop_and_switch_threads_with_the_keyboard_alone() {
        viewport(1280, 800);
        // sign in: the name box has the focus
        WebElement name = await("the sign-in form", d -> displayed(By.cssSelector("[data-testid=login-user]")));
        await("the focus in the name box", d -> name.equals(focused()));
        keys("keys", Keys.ENTER);
        await("the chat view", d -> displayed(By.cssSelector("[data-testid=chat-view]")));
        await("the focus in the message box", d -> "message-input".equals(focusedTestId()));

        // send with Enter
        keys("first thread", Keys.ENTER);
        awaitAssistantText("You said: \"first thread\" (2 words).");

        // send, then stop with Tab and Enter (Send is disabled while the run goes on, so Tab lands on Stop)
        keys("count to 5000", Keys.ENTER);
        await("the count to start", d -> streamingBubble().isPresent());
        keys(Keys.TAB);
        assertThat(focusedTestId()).isEqualTo("stop-button");
        keys(Keys.ENTER);
        await("the cancelled run", d -> runMetas().stream().anyMatch(m -> "cancelled".equals(m.getAttribute("data-run-status"))));
        await("the focus back in the message box", d -> "message-input".equals(focusedTestId()));

        // the send button works from the keyboard too
        keys("via the button");
        keys(Keys.TAB);
        assertThat(focusedTestId()).isEqualTo("send-button");
        keys(Keys.ENTER);
        awaitAssistantText("You said: \"via the button\" (3 words).");
        await("the focus back in the message box", d -> "message-input".equals(focusedTestId()));

        // a new thread, from the keyboard
        tabUntil("the New thread button", true, e -> "new-thread".equals(e.getAttribute("data-testid")));
        keys(Keys.ENTER);
        await("a new conversation", d -> "New conversation".equals(byTestId("thread-heading").getText())
                && "message-input".equals(focusedTestId()));
        keys("second thread", Keys.ENTER);
        awaitAssistantText("You said: \"second thread\" (2 words).");
        await("two threads", d -> threadItems().size() == 2);

        // back to the first thread: Shift+Tab to it in the list, Enter
        tabUntil("the first thread", true, e -> "thread-open".equals(e.getAttribute("data-testid"))
                && e.getText().contains("first thread"));
        screenshot("keyboard-01-thread-focused");
        keys(Keys.ENTER);
        await("the first thread open", d -> "first thread".equals(byTestId("thread-heading").getText())
                && assistantTexts().contains("You said: \"via the button\" (3 words)."));
        assertThat(focused().getAttribute("aria-current")).isEqualTo("true");

        // rename it from the keyboard: Tab reaches Rename, Enter edits, Enter saves
        tabUntil("Rename", false, e -> "thread-rename".equals(e.getAttribute("data-testid")));
        keys(Keys.ENTER);
        await("the rename box", d -> "rename-input".equals(focusedTestId()));
        keys("Renamed by keys", Keys.ENTER); // the old title is selected: typing replaces it
        await("the new title", d -> "Renamed by keys".equals(byTestId("thread-heading").getText()));

        // on a phone: the menu button opens the drawer, Enter on a thread opens it and closes the drawer
        viewport(375, 700);
        await("the phone layout", d -> byTestId("menu-button").isDisplayed());
        byTestId("message-input").sendKeys(""); // the focus in the message box, as after sending
        tabUntil("the menu button", true, e -> "menu-button".equals(e.getAttribute("data-testid")));
        keys(Keys.ENTER);
        await("the drawer, focus on the open thread", d -> byTestId("sidebar").isDisplayed()
                && "thread-open".equals(focusedTestId()) && focused().getText().contains("Renamed by keys"));
        tabUntil("the other thread", true, e -> "thread-open".equals(e.getAttribute("data-testid"))
                && e.getText().contains("second thread"));
        screenshot("keyboard-02-drawer");
        keys(Keys.ENTER);
        await("the second thread open, the drawer closed", d -> "second thread".equals(byTestId("thread-heading").getText())
                && !byTestId("sidebar").isDisplayed() && "menu-button".equals(focusedTestId()));
        // Escape closes the drawer
        keys(Keys.ENTER);
        await("the drawer", d -> byTestId("sidebar").isDisplayed());
        keys(Keys.ESCAPE);
        await("the drawer closed by Escape", d -> !byTestId("sidebar").isDisplayed() && "menu-button".equals(focusedTestId()));
        screenshot("keyboard-03-phone");
    }

    // ------------------------------------------------------------------ keyboard

    private void keys(CharSequence... keys) {
        new Actions(driver).sendKeys(keys).perform();
    }

    private WebElement focused() {
        return driver.switchTo().activeElement();
    }

    private String focusedTestId() {
        return focused().getAttribute("data-testid");
    }

    /** Presses Tab (or Shift+Tab) until the focused element matches; at most 40 times. */
    private void tabUntil(String what, boolean backwards, Predicate<WebElement> wanted) {
        for (int i = 0; i < 40; i++) {
            if (wanted.test(focused())) {
                return;
            }
            keys(backwards ? Keys.chord(Keys.SHIFT, Keys.TAB) : Keys.TAB);
        }
        screenshot("tab-timeout");
        throw new AssertionError("40 presses of " + (backwards ? "Shift+Tab" : "Tab") + " did not reach " + what
                + "; the focus is on " + focused().getTagName() + " " + focusedTestId());
    }

    // ------------------------------------------------------------------ axe-core

    private void assertNoSeriousViolations(String view) {
        if (js("return typeof window.axe;").equals("undefined")) {
            js(axeScript());
        }
        String json = (String) ((JavascriptExecutor) driver).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ['violations']})
                    .then((results) => done(JSON.stringify(results.violations)))
                    .catch((err) => done(JSON.stringify({error: String(err)})));""");
        List<String> serious = new ArrayList<>();
        try {
            JsonNode violations = JSON.readTree(json);
            assertThat(violations.isArray()).as("axe ran on " + view + ": " + json).isTrue();
            for (JsonNode violation : violations) {
                String impact = violation.path("impact").asText();
                StringBuilder line = new StringBuilder(impact + " " + violation.path("id").asText() + ": "
                        + violation.path("help").asText());
                for (JsonNode node : violation.path("nodes")) {
                    line.append("\n    ").append(node.path("target")).append(" ")
                            .append(node.path("failureSummary").asText().replace('\n', ' '));
                }
                if (impact.equals("serious") || impact.equals("critical")) {
                    serious.add(line.toString());
                } else {
                    System.out.println("axe, " + view + ": " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(serious).as("serious or critical axe violations on " + view).isEmpty();
    }

    private static String axeScript;

    private static String axeScript() {
        if (axeScript == null) {
            String resource = System.getProperty("parley.axe.script");
            assertThat(resource).as("the system property parley.axe.script (set by the examples pom)").isNotBlank();
            try (InputStream in = AccessibilityBrowserIT.class.getClassLoader().getResourceAsStream(resource)) {
                assertThat(in).as("axe-core on the test class path: " + resource).isNotNull();
                axeScript = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return axeScript;
    }
}
