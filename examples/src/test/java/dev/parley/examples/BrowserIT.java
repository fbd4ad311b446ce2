package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The demo end to end in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}): sign in, stream, tool trace, stop, reconnect, reload. Screenshots go
 * to {@code examples/target/screenshots/}. Without Chromium the test is skipped, except on CI
 * ({@code CI=true}) where it fails.
 */
class BrowserIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dataDir;
    @TempDir
    static Path profileDir;

    private static DemoServer server;
    private static WebDriver driver;
    private static Path screenshots;
    private String testName;

    @BeforeAll
    static void startServerAndBrowser() throws IOException {
        requireChromium();
        screenshots = Path.of(System.getProperty("parley.screenshots", "target/screenshots"));
        Files.createDirectories(screenshots);
        server = DemoServer.start(DemoConfig.fromEnvironment(Map.of(
                "PARLEY_PORT", "0",
                "PARLEY_DB_URL", "jdbc:h2:file:" + dataDir.resolve("parley").toAbsolutePath(),
                "PARLEY_DEMO_TOKEN_DELAY_MS", "15")));

        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,900", "--user-data-dir=" + profileDir.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
    }

    private static void requireChromium() {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        String message = "Chromium is not installed (" + CHROMIUM + ", " + CHROMEDRIVER
                + "): apt-get install -y chromium chromium-driver";
        if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(message);
        }
        Assumptions.assumeTrue(present, message + "; browser test skipped");
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void freshPage(TestInfo info) {
        testName = info.getTestMethod().orElseThrow().getName();
        driver.get(server.url());
        js("localStorage.clear();");
        driver.get(server.url());
    }

    @AfterEach
    void lastScreenshot() {
        screenshot("last");
    }

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
        WebElement thread = await("the thread after reload", d -> threadItems().stream()
                .filter(item -> item.getText().contains("Hello Parley, how are you today?")).findFirst().orElse(null));
        thread.click();
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

    // ------------------------------------------------------------------ page helpers

    private void signIn(String user) {
        WebElement name = await("the sign-in form", d -> displayed(By.cssSelector("[data-testid=login-user]")));
        name.sendKeys(user);
        click("login-submit");
        await("the chat view", d -> displayed(By.cssSelector("[data-testid=chat-view]")));
        assertThat(driver.findElement(By.cssSelector("[data-testid=user-name]")).getText()).isEqualTo(user);
    }

    private void send(String message) {
        await("the composer ready", d -> driver.findElement(By.cssSelector("[data-testid=send-button]")).isEnabled());
        WebElement input = driver.findElement(By.cssSelector("[data-testid=message-input]"));
        input.clear();
        input.sendKeys(message);
        click("send-button");
    }

    private void click(String testId) {
        driver.findElement(By.cssSelector("[data-testid=" + testId + "]")).click();
    }

    private WebElement awaitAssistantText(String expected) {
        return await("an answer \"" + abbreviate(expected) + "\"", d -> assistantBubbles().stream()
                .filter(b -> b.getAttribute("data-streaming") == null)
                .filter(b -> b.findElement(By.cssSelector("[data-testid=message-text]")).getText().equals(expected))
                .findFirst().orElse(null));
    }

    private java.util.Optional<WebElement> streamingBubble() {
        return assistantBubbles().stream().filter(b -> "true".equals(b.getAttribute("data-streaming"))).findFirst();
    }

    private WebElement lastAssistantBubble() {
        List<WebElement> bubbles = assistantBubbles();
        return bubbles.get(bubbles.size() - 1);
    }

    private List<WebElement> assistantBubbles() {
        return driver.findElements(By.cssSelector("[data-testid=message][data-role=assistant]"));
    }

    private List<String> assistantTexts() {
        return assistantBubbles().stream().map(WebElement::getText).toList();
    }

    private List<String> userTexts() {
        return driver.findElements(By.cssSelector("[data-testid=message][data-role=user]")).stream()
                .map(WebElement::getText).toList();
    }

    private List<WebElement> runMetas() {
        return driver.findElements(By.cssSelector("[data-testid=run-meta]"));
    }

    private WebElement runMetaAfter(WebElement message) {
        return message.findElement(By.xpath("following-sibling::li[@data-testid='run-meta'][1]"));
    }

    private List<WebElement> threadItems() {
        return driver.findElements(By.cssSelector("[data-testid=thread-item]"));
    }

    private WebElement displayed(By by) {
        return driver.findElements(by).stream().filter(WebElement::isDisplayed).findFirst().orElse(null);
    }

    private static String text(WebElement parent, String testId) {
        return parent.findElement(By.cssSelector("[data-testid=" + testId + "]")).getText();
    }

    private Object js(String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    private <T> T await(String what, Function<WebDriver, T> condition) {
        try {
            return new WebDriverWait(driver, WAIT, Duration.ofMillis(100))
                    .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                    .withMessage("waiting for " + what)
                    .until(condition);
        } catch (RuntimeException e) {
            screenshot("timeout");
            throw e;
        }
    }

    private void screenshot(String name) {
        if (driver == null) {
            return;
        }
        try {
            Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
            Files.copy(png, screenshots.resolve(testName + "-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            System.err.println("screenshot " + name + " failed: " + e.getMessage());
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "...";
    }
}
