package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * What the page shows live while a run goes on, in a real headless Chromium: the thread's
 * title and a tool's result. Screenshots go to {@code examples/target/screenshots/}.
 */
class PageLayoutBrowserIT extends BrowserTestBase {

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
}
