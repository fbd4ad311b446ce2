package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The page's layout on a phone (375 x 700) and on a desktop (1280 x 800), measured in a real
 * headless Chromium, and what it shows live while a run goes on: the thread's title and a
 * tool's result. Screenshots go to {@code examples/target/screenshots/}.
 */
class PageLayoutBrowserIT extends BrowserTestBase {

    @Test
    void should_be_usable_on_a_375_px_phone() {
        viewport(375, 700);
        screenshot("375-01-sign-in");
        assertNoHorizontalScroll();
        assertThat(rect(byTestId("login-user")).get("width")).isGreaterThanOrEqualTo(250);

        signIn("phone");
        screenshot("375-02-empty");
        assertNoHorizontalScroll();
        // the thread list is a drawer: closed, behind a menu button
        assertThat(byTestId("sidebar").isDisplayed()).isFalse();
        assertThat(byTestId("menu-button").isDisplayed()).isTrue();
        // the composer takes the width, the message box at least 250 px of it
        assertThat(rect(byTestId("composer")).get("width")).isEqualTo(375L);
        assertThat(rect(byTestId("message-input")).get("width")).isGreaterThanOrEqualTo(250);
        assertThat(byTestId("send-button").isDisplayed()).isTrue();
        assertThat(byTestId("stop-button").isDisplayed()).isTrue();

        // a title long enough to need cutting shows more than its first letter
        send("Plan a weekend trip to the mountains with friends and a dog");
        awaitAssistantText("You said: \"Plan a weekend trip to the mountains with friends and a dog\" (12 words).");
        WebElement heading = byTestId("thread-heading");
        await("the title in the heading", d -> heading.getText().startsWith("Plan a weekend trip"));
        assertThat(rect(heading).get("width")).isGreaterThanOrEqualTo(150);
        assertThat((Boolean) js("const h = arguments[0]; return h.scrollWidth > h.clientWidth;", heading))
                .as("a title this long is cut with an ellipsis").isTrue();
        // an answer bubble is not squeezed
        assertThat(rect(lastAssistantBubble()).get("width")).isGreaterThanOrEqualTo(250);
        assertNoHorizontalScroll();
        screenshot("375-03-answer");

        // a tool call: its trace is one tap away, in a sheet that fits the screen
        send("calculate (1.5 + 2) * 4");
        awaitAssistantText("(1.5 + 2) * 4 = 14");
        assertThat(byTestId("trace-panel").isDisplayed()).isFalse();
        assertThat(byTestId("trace-count").getText()).isEqualTo("1");
        click("trace-button");
        WebElement trace = await("the trace sheet", d -> displayed(By.cssSelector("[data-testid=trace-item]")));
        await("the sheet in place", d -> isInViewport(trace) && isInViewport(byTestId("trace-close")));
        assertThat(text(trace, "trace-output")).isEqualTo("14");
        assertThat(byTestId("trace-button").getAttribute("aria-expanded")).isEqualTo("true");
        assertNoHorizontalScroll();
        screenshot("375-04-trace-sheet");
        click("trace-close");
        await("the sheet closed", d -> !byTestId("trace-panel").isDisplayed());

        // the drawer: threads with their actions visible without hovering
        click("menu-button");
        WebElement drawer = await("the drawer", d -> displayed(By.cssSelector("[data-testid=sidebar]")));
        await("the drawer in place", d -> isInViewport(drawer));
        assertThat(rect(drawer).get("width")).isLessThan(375);
        WebElement item = threadItems().get(0);
        assertThat(item.getText()).contains("Plan a weekend trip");
        assertThat(item.findElement(By.cssSelector("[data-testid=thread-rename]")).isDisplayed()).isTrue();
        assertThat(item.findElement(By.cssSelector("[data-testid=thread-delete]")).isDisplayed()).isTrue();
        assertThat(rect(byTestId("new-thread")).get("width")).isGreaterThan(200);
        assertNoHorizontalScroll();
        screenshot("375-05-drawer");

        // rename from the drawer with taps only
        item.findElement(By.cssSelector("[data-testid=thread-rename]")).click();
        WebElement input = await("the rename box", d -> displayed(By.cssSelector("[data-testid=rename-input]")));
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), "Mountains", Keys.ENTER);
        await("the new title", d -> threadItems().get(0).getText().contains("Mountains"));

        // a new thread from the drawer closes it
        click("new-thread");
        await("the drawer closed", d -> !byTestId("sidebar").isDisplayed());
        assertThat(byTestId("thread-heading").getText()).isEqualTo("New conversation");
        send("second");
        awaitAssistantText("You said: \"second\" (1 word).");

        // switching threads from the drawer
        click("menu-button");
        clickInThread("Mountains", "thread-open");
        await("the drawer closed", d -> !byTestId("sidebar").isDisplayed());
        await("the older thread open", d -> "Mountains".equals(byTestId("thread-heading").getText())
                && assistantTexts().contains("(1.5 + 2) * 4 = 14"));
        assertNoHorizontalScroll();
        screenshot("375-06-switched");

        // the narrowest phone the page is made for
        viewport(360, 640);
        assertNoHorizontalScroll();
        assertThat(rect(byTestId("message-input")).get("width")).isGreaterThanOrEqualTo(250);
        assertThat((Boolean) js("const h = arguments[0]; return h.scrollWidth <= h.clientWidth;", byTestId("thread-heading")))
                .as("a short title is shown whole").isTrue();
        screenshot("360-01-chat");
    }

    @Test
    void should_keep_three_columns_at_1280_px() {
        viewport(1280, 800);
        signIn("desktop");
        send("calculate 6*7");
        awaitAssistantText("6*7 = 42");
        await("the trace", d -> displayed(By.cssSelector("[data-testid=trace-item][data-status=completed]")));
        screenshot("1280-01-chat");

        Map<String, Long> sidebar = rect(byTestId("sidebar"));
        Map<String, Long> conversation = rect(byTestId("message-input"));
        Map<String, Long> trace = rect(byTestId("trace-panel"));
        assertThat(byTestId("sidebar").isDisplayed()).isTrue();
        assertThat(byTestId("trace-panel").isDisplayed()).isTrue();
        assertThat(sidebar.get("right")).isLessThanOrEqualTo(conversation.get("left"));
        assertThat(conversation.get("right")).isLessThanOrEqualTo(trace.get("left"));
        assertThat(trace.get("right")).isEqualTo(1280L);
        assertThat(conversation.get("width")).isGreaterThanOrEqualTo(500);
        // the phone's controls stay out of the way
        assertThat(byTestId("menu-button").isDisplayed()).isFalse();
        assertThat(byTestId("trace-button").isDisplayed()).isFalse();
        assertThat(byTestId("drawer-close").isDisplayed()).isFalse();
        assertThat(byTestId("trace-close").isDisplayed()).isFalse();
        assertNoHorizontalScroll();
    }

    @Test
    void should_show_the_title_and_a_tool_result_while_the_first_run_goes_on() {
        viewport(1280, 800);
        signIn("live");
        assertThat(byTestId("thread-heading").getText()).isEqualTo("New conversation");

        // the title comes from the first message as the run starts, before the run ends
        send("count to 400");
        await("the title while the run streams", d -> streamingBubble().isPresent()
                && "count to 400".equals(byTestId("thread-heading").getText())
                && threadItems().size() == 1 && "count to 400".equals(text(threadItems().get(0), "thread-title")));
        assertThat(streamingBubble()).as("still streaming").isPresent();
        screenshot("live-01-title-while-streaming");
        awaitAssistantText(String.join(" ", java.util.stream.IntStream.rangeClosed(1, 400).mapToObj(Integer::toString).toList()));

        // a tool's result shows as it comes, between the call and the answer, as after a reload
        click("new-thread");
        send("calculate 6*7");
        awaitAssistantText("6*7 = 42");
        List<String> live = conversationChips();
        assertThat(live).containsExactly("tool-call", "tool", "assistant");
        WebElement result = driver.findElement(By.cssSelector("[data-testid=message][data-role=tool]"));
        assertThat(result.getText()).isEqualTo("RESULT 42");
        assertThat(byTestId("thread-heading").getText()).isEqualTo("calculate 6*7");
        screenshot("live-02-result-chip");

        send("calculate 1/0");
        awaitAssistantText("I could not calculate 1/0: Division by zero (at position 2).");
        List<WebElement> results = driver.findElements(By.cssSelector("[data-testid=message][data-role=tool]"));
        assertThat(results).hasSize(2);
        String failedLive = results.get(1).getText();
        assertThat(failedLive).startsWith("RESULT error: ");

        driver.navigate().refresh();
        await("the history after reload", d -> assistantTexts().contains("6*7 = 42"));
        List<WebElement> stored = driver.findElements(By.cssSelector("[data-testid=message][data-role=tool]"));
        assertThat(stored).extracting(WebElement::getText).containsExactly("RESULT 42", failedLive);
    }

    // ------------------------------------------------------------------ measures

    /** The roles of the message list's items below the user's last message. */
    private List<String> conversationChips() {
        @SuppressWarnings("unchecked")
        List<String> roles = (List<String>) js("""
                const items = Array.from(document.querySelectorAll('#message-list > li[data-role]'));
                const lastUser = items.map((li) => li.getAttribute('data-role')).lastIndexOf('user');
                return items.slice(lastUser + 1).map((li) => li.getAttribute('data-role'));""");
        return roles;
    }

    private void assertNoHorizontalScroll() {
        Number scrollWidth = (Number) js("return document.scrollingElement.scrollWidth;");
        Number innerWidth = (Number) js("return window.innerWidth;");
        assertThat(scrollWidth.intValue()).as("the page's scroll width").isLessThanOrEqualTo(innerWidth.intValue());
    }

    private boolean isInViewport(WebElement element) {
        Map<String, Long> r = rect(element);
        Number width = (Number) js("return window.innerWidth;");
        Number height = (Number) js("return window.innerHeight;");
        return r.get("left") >= 0 && r.get("top") >= 0 && r.get("right") <= width.longValue()
                && r.get("bottom") <= height.longValue() && r.get("width") > 0;
    }

    /** The element's bounding box in CSS pixels, rounded: left, top, right, bottom, width, height. */
    private Map<String, Long> rect(WebElement element) {
        @SuppressWarnings("unchecked")
        Map<String, Long> box = (Map<String, Long>) js("""
                const r = arguments[0].getBoundingClientRect();
                return {left: Math.round(r.left), top: Math.round(r.top), right: Math.round(r.right),
                        bottom: Math.round(r.bottom), width: Math.round(r.width), height: Math.round(r.height)};""",
                element);
        return box;
    }
}
