package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The demo end to end in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}): sign in, stream, tool trace, stop, reconnect, reload. Screenshots go
 * to {@code examples/target/screenshots/}. Without Chromium the test is skipped, except on CI
 * ({@code CI=true}) where it fails.
 */
class BrowserIT extends BrowserTestBase {
    // ------------------------------------------------------------------ the scenario

    @Test
    void should_sign_in_stream_trace_tools_stop_a_run_and_find_the_history_after_reload() {
        signIn("alice");
        screenshot("01-signed-in");

        // a plain message: tokens stream in, then usage and cost show
        send("Hello Parley, how are you today?");
        WebElement hello = awaitAssistantText("You said: \"Hello Parley, how are you today?\" (6 words).");
        WebElement helloMeta = runMetaAfter(hello);
        assertThat(helloMeta.getAttribute("data-run-status")).isEqualTo("completed");
        assertThat(helloMeta.findElement(By.cssSelector("[data-testid=run-usage]")).getText()).contains("tokens");
        assertThat(helloMeta.findElement(By.cssSelector("[data-testid=run-cost]")).getText()).startsWith("$");
        await("the thread titled after the first message", d -> threadItems().stream()
                .anyMatch(item -> item.getText().contains("Hello Parley, how are you today?")));
        screenshot("02-first-answer");

        // a longer answer seen mid-stream: text grows while the message is marked streaming
        send("count to 600");
        WebElement counting = await("a partial count", d -> streamingBubble()
                .filter(b -> b.findElement(By.cssSelector("[data-testid=message-text]")).getText().startsWith("1 2 3"))
                .orElse(null));
        String partial = counting.findElement(By.cssSelector("[data-testid=message-text]")).getText();
        assertThat(partial).doesNotEndWith(" 600");
        screenshot("03-streaming");

        // the connection drops mid-stream: the page resumes with Last-Event-ID, no gap, no duplicate
        assertThat((Boolean) js("return window.parleyDebug.dropConnection();")).isTrue();
        String all = IntStream.rangeClosed(1, 600).mapToObj(Integer::toString).collect(Collectors.joining(" "));
        awaitAssistantText(all);
        screenshot("04-resumed-after-drop");

        // a tool call: trace panel shows tool, arguments, output and latency
        send("calculate 6*7");
        awaitAssistantText("6*7 = 42");
        WebElement trace = await("the calculator trace", d -> driver.findElements(By.cssSelector("[data-testid=trace-item]"))
                .stream().filter(t -> "completed".equals(t.getAttribute("data-status"))).findFirst().orElse(null));
        assertThat(text(trace, "trace-tool")).isEqualTo("calculator");
        assertThat(text(trace, "trace-arguments")).contains("\"expression\"").contains("6*7");
        assertThat(text(trace, "trace-output")).isEqualTo("42");
        assertThat(text(trace, "trace-latency")).matches("\\d+ ms");
        screenshot("05-tool-trace");

        // a model failure is shown to the user
        send("/fail");
        WebElement banner = await("the error banner", d -> displayed(By.id("error-banner")));
        assertThat(banner.getText()).contains("model_error");
        await("a failed run", d -> runMetas().stream().anyMatch(m -> "failed".equals(m.getAttribute("data-run-status"))));
        screenshot("06-model-error");

        // stop a long run: it is marked cancelled and keeps its partial text
        send("count to 5000");
        await("the count to start", d -> streamingBubble()
                .filter(b -> b.findElement(By.cssSelector("[data-testid=message-text]")).getText().startsWith("1 2 3 4 5"))
                .orElse(null));
        WebElement stop = driver.findElement(By.cssSelector("[data-testid=stop-button]"));
        assertThat(stop.isEnabled()).isTrue();
        stop.click();
        WebElement cancelled = await("the run marked cancelled", d -> runMetas().stream()
                .filter(m -> "cancelled".equals(m.getAttribute("data-run-status"))).findFirst().orElse(null));
        assertThat(cancelled.getText()).containsIgnoringCase("cancelled");
        WebElement partialCount = lastAssistantBubble();
        assertThat(partialCount.getAttribute("data-status")).isEqualTo("incomplete");
        assertThat(partialCount.getText()).startsWith("1 2 3 4 5").doesNotContain("5000");
        await("the send button back", d -> driver.findElement(By.cssSelector("[data-testid=send-button]")).isEnabled());
        screenshot("07-cancelled");

        // reload: still signed in, the thread is in the list, its history comes back
        driver.get(server.url());
        // the list may be drawn again while the page loads: find and click the item in one step, again if it was replaced
        await("the thread after reload, clicked", d -> {
            try {
                WebElement item = threadItems().stream()
                        .filter(i -> i.getText().contains("Hello Parley, how are you today?")).findFirst().orElse(null);
                if (item == null) {
                    return null;
                }
                item.click();
                return true;
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return null;
            }
        });
        await("the history", d -> assistantTexts().contains("6*7 = 42"));
        List<String> assistant = assistantTexts();
        assertThat(assistant).contains("You said: \"Hello Parley, how are you today?\" (6 words).", all, "6*7 = 42");
        assertThat(userTexts()).containsSubsequence("Hello Parley, how are you today?", "count to 600", "calculate 6*7",
                "/fail", "count to 5000");
        assertThat(runMetas()).extracting(m -> m.getAttribute("data-run-status")).contains("completed", "failed", "cancelled");
        assertThat(driver.findElements(By.cssSelector("[data-testid=trace-item]"))).isNotEmpty();
        screenshot("08-history-after-reload");
    }

    @Test
    void should_create_rename_and_delete_threads_newest_first() {
        signIn("bob");
        send("first thread");
        awaitAssistantText("You said: \"first thread\" (2 words).");
        click("new-thread");
        send("second thread");
        awaitAssistantText("You said: \"second thread\" (2 words).");

        // newest first
        await("two threads", d -> threadItems().size() == 2);
        assertThat(threadItems().get(0).getText()).contains("second thread");
        assertThat(threadItems().get(1).getText()).contains("first thread");

        // rename the first thread
        WebElement older = threadItems().get(1);
        new Actions(driver).moveToElement(older).perform();
        older.findElement(By.cssSelector("[data-testid=thread-rename]")).click();
        WebElement input = await("the rename box", d -> displayed(By.cssSelector("[data-testid=rename-input]")));
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), "Groceries", Keys.ENTER);
        await("the new title", d -> threadItems().stream().anyMatch(i -> i.getText().contains("Groceries")));
        screenshot("09-renamed");

        // delete the second thread (two clicks: delete, then confirm)
        WebElement newer = threadItems().stream().filter(i -> i.getText().contains("second thread")).findFirst().orElseThrow();
        new Actions(driver).moveToElement(newer).perform();
        newer.findElement(By.cssSelector("[data-testid=thread-delete]")).click();
        newer.findElement(By.cssSelector("[data-testid=thread-delete-confirm]")).click();
        await("one thread left", d -> threadItems().size() == 1);
        assertThat(threadItems().get(0).getText()).contains("Groceries");

        // after a reload the list is the same
        driver.get(server.url());
        await("the list after reload", d -> threadItems().size() == 1 && threadItems().get(0).getText().contains("Groceries"));
        screenshot("10-after-delete");
    }
}
