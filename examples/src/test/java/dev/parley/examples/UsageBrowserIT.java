package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * What runs cost, in a real Chromium: each thread's tokens and cost in its header, this month's
 * usage by day (an SVG chart) and by agent, and the trash with restore and delete forever.
 */
class UsageBrowserIT extends BrowserTestBase {

    @Test
    void should_show_the_tokens_and_cost_of_the_open_thread() {
        // given
        signIn("ursula");
        // when
        send("hello");
        awaitAssistantText("You said: \"hello\" (1 word).");
        // then
        WebElement badge = byTestId("thread-usage");
        await("the thread's tokens and cost", d -> badge.isDisplayed() && badge.getText().matches("[0-9,]+ tokens · \\$[0-9.]+"));
        screenshot("thread-usage");
    }

    @Test
    void should_show_the_input_read_from_the_prompt_cache_in_the_thread_and_the_usage_view() {
        // given: the demo model reports the input before a /cached message as read from its prompt cache
        signIn("ulrich");
        send("/cached hello");
        awaitAssistantText("You said: \"hello\" (1 word).");
        // then: the thread's header
        WebElement badge = byTestId("thread-usage");
        await("the thread's cached tokens", d -> badge.isDisplayed()
                && badge.getText().matches("[0-9,]+ tokens \\([1-9][0-9,]* cached\\) · \\$[0-9.]+"));
        screenshot("thread-usage-cached");
        // and the usage view
        click("usage-button");
        await("this month's total with its cached tokens", d -> byTestId("usage-total").getText()
                .matches("1 run · [0-9,]+ tokens \\([1-9][0-9,]* cached\\) · \\$[0-9.]+"));
        WebElement cached = await("the agent's cached tokens", d -> displayed(By.cssSelector("[data-testid=usage-agent-cached]")));
        assertThat(Long.parseLong(cached.getText().replace(",", ""))).isPositive();
        screenshot("usage-view-cached");
    }

    @Test
    void should_chart_this_months_usage_by_day_and_list_it_by_agent() {
        // given
        signIn("victor");
        send("count to 5");
        awaitAssistantText("1 2 3 4 5");
        // when
        click("usage-button");
        // then
        await("the usage view", d -> byTestId("usage-view").isDisplayed());
        await("this month's total", d -> byTestId("usage-total").getText().startsWith("1 run · "));
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        List<WebElement> bars = driver.findElements(By.cssSelector("#usage-chart [data-testid=usage-bar]"));
        assertThat(bars).hasSizeGreaterThanOrEqualTo(28);
        WebElement todays = driver.findElement(By.cssSelector("#usage-chart [data-testid=usage-bar][data-day='" + today + "']"));
        assertThat(Double.parseDouble(todays.getAttribute("data-value"))).isPositive();
        assertThat(Double.parseDouble(todays.getAttribute("height"))).isPositive();
        List<WebElement> agents = driver.findElements(By.cssSelector("[data-testid=usage-agent-row]"));
        assertThat(agents).hasSize(1);
        assertThat(agents.get(0).getText()).startsWith("assistant 1 ");
        screenshot("usage-view");
        // and back
        click("usage-close");
        await("the conversation again", d -> displayed(By.cssSelector("[data-testid=composer]")) != null);
    }

    @Test
    void should_restore_a_deleted_thread_and_delete_another_forever_from_the_trash() {
        // given: two threads, both deleted
        signIn("wanda");
        send("keep me");
        awaitAssistantText("You said: \"keep me\" (2 words).");
        click("new-thread");
        send("drop me");
        awaitAssistantText("You said: \"drop me\" (2 words).");
        for (String title : List.of("keep me", "drop me")) {
            clickInThread(title, "thread-delete");
            clickInThread(title, "thread-delete-confirm");
            await("\"" + title + "\" gone from the list", d -> threadItems().stream().noneMatch(i -> i.getText().contains(title)));
        }
        // when
        click("trash-button");
        await("both in the trash", d -> driver.findElements(By.cssSelector("[data-testid=trash-item]")).size() == 2);
        assertThat(driver.findElements(By.cssSelector("[data-testid=trash-title]"))).extracting(WebElement::getText)
                .containsExactly("drop me", "keep me");
        trashItem("keep me").findElement(By.cssSelector("[data-testid=trash-restore]")).click();
        await("restored to the thread list", d -> threadItems().stream().anyMatch(i -> i.getText().contains("keep me")));
        WebElement drop = trashItem("drop me");
        drop.findElement(By.cssSelector("[data-testid=trash-delete]")).click();
        drop.findElement(By.cssSelector("[data-testid=trash-delete-confirm]")).click();
        // then
        await("the trash empty", d -> byTestId("trash-empty").isDisplayed());
        screenshot("trash-empty");
        click("trash-close");
        clickInThread("keep me", "thread-open");
        awaitAssistantText("You said: \"keep me\" (2 words).");
    }

    private WebElement trashItem(String title) {
        return await("\"" + title + "\" in the trash", d -> driver.findElements(By.cssSelector("[data-testid=trash-item]")).stream()
                .filter(i -> i.getText().contains(title)).findFirst().orElse(null));
    }
}
