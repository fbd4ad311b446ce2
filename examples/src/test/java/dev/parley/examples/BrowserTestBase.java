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
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * What the browser tests share: the demo server (in this JVM, on an H2 file database) and a
 * headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) per test class, a
 * fresh signed-out page before each test, and helpers that drive the page. Screenshots go to
 * {@code examples/target/screenshots/}. Without Chromium the tests are skipped, except on CI
 * ({@code CI=true}) where they fail.
 */
abstract class BrowserTestBase {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dataDir;
    @TempDir
    static Path profileDir;

    static DemoServer server;
    static WebDriver driver;
    private static Path screenshots;
    String testName;

    @BeforeAll
    static void startServerAndBrowser() throws IOException {
        start("15", options -> { });
    }

    /**
     * Starts the demo (its model streaming a token every {@code tokenDelayMs}) and Chromium with
     * {@code customize}d options; a subclass with its own needs stops what the base started in a
     * {@code @BeforeAll} of its own and calls this.
     */
    static void start(String tokenDelayMs, Consumer<ChromeOptions> customize) throws IOException {
        start(tokenDelayMs, Map.of(), customize);
    }

    /** {@link #start(String, Consumer)} with more environment variables for the demo. */
    static void start(String tokenDelayMs, Map<String, String> moreEnvironment, Consumer<ChromeOptions> customize) throws IOException {
        requireChromium();
        screenshots = Path.of(System.getProperty("parley.screenshots", "target/screenshots"));
        Files.createDirectories(screenshots);
        Map<String, String> environment = new java.util.HashMap<>(moreEnvironment);
        environment.put("PARLEY_PORT", "0");
        environment.put("PARLEY_DB_URL", "jdbc:h2:file:" + dataDir.resolve("parley").toAbsolutePath());
        environment.put("PARLEY_DEMO_TOKEN_DELAY_MS", tokenDelayMs);
        server = DemoServer.start(DemoConfig.fromEnvironment(environment));

        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1400,900", "--user-data-dir=" + profileDir.toAbsolutePath());
        customize.accept(options);
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
            driver = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @BeforeEach
    void freshPage(TestInfo info) {
        testName = info.getTestMethod().orElseThrow().getName();
        driver.get(server.url());
        js("localStorage.clear();");
        beforeReload();
        driver.get(server.url());
    }

    /** Called on a blank page before each test's first page load. */
    void beforeReload() {
    }

    @AfterEach
    void lastScreenshot() {
        screenshot("last");
    }

    // ------------------------------------------------------------------ page helpers

    /** Sets the viewport (not the window) to exactly {@code width} x {@code height} CSS pixels. */
    void viewport(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
        Number innerWidth = (Number) js("return window.innerWidth;");
        Number innerHeight = (Number) js("return window.innerHeight;");
        driver.manage().window().setSize(new Dimension(
                width + (width - innerWidth.intValue()), height + (height - innerHeight.intValue())));
        await("a " + width + " x " + height + " viewport", d -> ((Number) js("return window.innerWidth;")).intValue() == width
                && ((Number) js("return window.innerHeight;")).intValue() == height);
    }

    void signIn(String user) {
        WebElement name = await("the sign-in form", d -> displayed(By.cssSelector("[data-testid=login-user]")));
        name.sendKeys(user);
        click("login-submit");
        await("the chat view", d -> displayed(By.cssSelector("[data-testid=chat-view]")));
        assertThat(driver.findElement(By.cssSelector("[data-testid=user-name]")).getText()).isEqualTo(user);
    }

    void send(String message) {
        await("the composer ready", d -> driver.findElement(By.cssSelector("[data-testid=send-button]")).isEnabled());
        WebElement input = driver.findElement(By.cssSelector("[data-testid=message-input]"));
        input.clear();
        input.sendKeys(message);
        click("send-button");
    }

    void click(String testId) {
        driver.findElement(By.cssSelector("[data-testid=" + testId + "]")).click();
    }

    WebElement byTestId(String testId) {
        return driver.findElement(By.cssSelector("[data-testid=" + testId + "]"));
    }

    WebElement awaitAssistantText(String expected) {
        return await("an answer \"" + abbreviate(expected) + "\"", d -> assistantBubbles().stream()
                .filter(b -> b.getAttribute("data-streaming") == null)
                .filter(b -> b.findElement(By.cssSelector("[data-testid=message-text]")).getText().equals(expected))
                .findFirst().orElse(null));
    }

    Optional<WebElement> streamingBubble() {
        return assistantBubbles().stream().filter(b -> "true".equals(b.getAttribute("data-streaming"))).findFirst();
    }

    WebElement lastAssistantBubble() {
        List<WebElement> bubbles = assistantBubbles();
        return bubbles.get(bubbles.size() - 1);
    }

    List<WebElement> assistantBubbles() {
        return driver.findElements(By.cssSelector("[data-testid=message][data-role=assistant]"));
    }

    List<String> assistantTexts() {
        return assistantBubbles().stream().map(WebElement::getText).toList();
    }

    List<String> userTexts() {
        return driver.findElements(By.cssSelector("[data-testid=message][data-role=user]")).stream()
                .map(WebElement::getText).toList();
    }

    List<WebElement> runMetas() {
        return driver.findElements(By.cssSelector("[data-testid=run-meta]"));
    }

    WebElement runMetaAfter(WebElement message) {
        return message.findElement(By.xpath("following-sibling::li[@data-testid='run-meta'][1]"));
    }

    List<WebElement> threadItems() {
        return driver.findElements(By.cssSelector("[data-testid=thread-item]"));
    }

    /**
     * Clicks the control {@code testId} of the displayed thread whose item shows {@code title},
     * trying again when the list was drawn anew meanwhile (it is, when a run ends).
     */
    void clickInThread(String title, String testId) {
        await("\"" + testId + "\" of the thread \"" + title + "\"", d -> {
            WebElement item = threadItems().stream()
                    .filter(i -> i.isDisplayed() && i.getText().contains(title)).findFirst().orElse(null);
            if (item == null) {
                return false;
            }
            item.findElement(By.cssSelector("[data-testid=" + testId + "]")).click();
            return true;
        });
    }

    WebElement displayed(By by) {
        return driver.findElements(by).stream().filter(WebElement::isDisplayed).findFirst().orElse(null);
    }

    static String text(WebElement parent, String testId) {
        return parent.findElement(By.cssSelector("[data-testid=" + testId + "]")).getText();
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    <T> T await(String what, Function<WebDriver, T> condition) {
        try {
            return new WebDriverWait(driver, WAIT, Duration.ofMillis(100))
                    .ignoring(StaleElementReferenceException.class)
                    .withMessage("waiting for " + what)
                    .until(condition);
        } catch (RuntimeException e) {
            screenshot("timeout");
            throw e;
        }
    }

    void screenshot(String name) {
        if (driver == null) {
            return;
        }
        try {
            Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
            Files.copy(png, screenshots.resolve(screenshotPrefix() + testName + "-" + name + ".png"),
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            System.err.println("screenshot " + name + " failed: " + e.getMessage());
        }
    }

    /** What the names of this class's screenshots start with. */
    String screenshotPrefix() {
        return "";
    }

    static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "...";
    }
}
