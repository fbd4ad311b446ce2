package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The model settings of the messages a person sends, in a real Chromium: a token limit set under
 * the composer reaches the model (the demo model stops its answer there, and the page marks the
 * answer cut short, live and from history), and clearing it gives the agent's own settings back.
 */
class ModelSettingsBrowserIT extends BrowserTestBase {

    @Test
    void should_send_the_settings_set_under_the_composer_with_each_message_until_cleared() {
        // given
        signIn("sybil");
        click("model-settings-summary");
        WebElement maxTokens = byTestId("setting-max-tokens");
        maxTokens.sendKeys("3");
        byTestId("setting-temperature").sendKeys("0.5");
        new Select(byTestId("setting-effort")).selectByValue("low");
        await("the settings summed up", d -> byTestId("model-settings-summary").getText()
                .equals("Model settings: temperature 0.5, at most 3 tokens, low reasoning effort"));
        screenshot("model-settings");
        // when
        send("count to 10");
        // then: the demo model stopped at the limit, and the page says the answer was cut there
        WebElement cut = awaitAssistantText("1 2 3");
        await("the answer marked cut", d -> cut.findElements(By.cssSelector("[data-testid=answer-cut]")).size() == 1);
        assertThat(cut.getAttribute("data-status")).isEqualTo("incomplete");
        assertThat(cut.findElement(By.cssSelector("[data-testid=answer-cut]")).getText()).isEqualTo("Stopped at the output token limit");
        screenshot("answer-cut-at-limit");
        // and without settings the agent's apply again
        click("settings-clear");
        assertThat(byTestId("model-settings-summary").getText()).isEqualTo("Model settings: the agent's");
        send("count to 4");
        WebElement whole = awaitAssistantText("1 2 3 4");
        assertThat(whole.findElements(By.cssSelector("[data-testid=answer-cut]"))).isEmpty();
        // and when the page is loaded again, the history still tells the cut answer from the whole one
        driver.navigate().refresh();
        WebElement cutAgain = awaitAssistantText("1 2 3");
        await("the cut answer marked after reload", d -> cutAgain.findElements(By.cssSelector("[data-testid=answer-cut]")).size() == 1);
        assertThat(awaitAssistantText("1 2 3 4").findElements(By.cssSelector("[data-testid=answer-cut]"))).isEmpty();
    }
}
