package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The agent editor of the demo page in a real Chromium: create an agent with a variable, edit it
 * into version 2 with both versions in its history, chat with it (the run's rendered instructions
 * show the variable's value under the answer), and archive it: new threads are refused with the
 * page showing why, while its old thread keeps working.
 */
class AgentEditorBrowserIT extends BrowserTestBase {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void should_create_edit_chat_with_and_archive_an_agent() throws Exception {
        // given
        viewport(1280, 800);
        signIn("hugo");

        // when: create
        click("agents-button");
        await("the editor", d -> displayed(By.cssSelector("[data-testid=agent-editor]")));
        byTestId("agent-name").sendKeys("Greeter");
        byTestId("agent-description").sendKeys("Greets a <b>customer</b>");
        byTestId("agent-instructions").sendKeys("Greet {{customer}} warmly.");
        click("variable-add");
        byTestId("var-name").sendKeys("customer");
        byTestId("var-default").sendKeys("Ada");
        byTestId("agent-temperature").sendKeys("0.5");
        click("agent-save");

        // then
        await("version 1", d -> byTestId("editor-status").getText().equals("v1 · active"));
        // the list of one's agents is drawn after the form: wait for it
        String agentId = await("the agent in the editor's list", d -> displayed(By.cssSelector("[data-testid=editor-agent]")))
                .getAttribute("data-agent-id");
        screenshot("created");

        // when: a bad edit, then a good one
        WebElement temperature = byTestId("agent-temperature");
        temperature.clear();
        temperature.sendKeys("7");
        click("agent-save");
        await("the temperature's error next to it", d -> byTestId("agent-temperature-error").isDisplayed());
        assertThat(temperature.getAttribute("aria-invalid")).isEqualTo("true");
        screenshot("field-error");
        temperature.clear();
        temperature.sendKeys("0.7");
        WebElement defaultValue = byTestId("var-default");
        defaultValue.clear();
        defaultValue.sendKeys("Grace");
        click("agent-save");

        // then
        await("version 2", d -> byTestId("editor-status").getText().equals("v2 · active"));
        await("both versions in the history", d -> driver.findElements(By.cssSelector("[data-testid=agent-version]")).size() == 2);
        click("version-open");
        await("version 1, read-only", d -> byTestId("agent-form-state").getText().startsWith("Version 1, read-only"));
        assertThat(byTestId("var-default").getAttribute("value")).isEqualTo("Ada");
        assertThat(byTestId("agent-name").isEnabled()).isFalse();
        screenshot("old-version");
        click("agent-latest");
        await("back on version 2", d -> byTestId("var-default").getAttribute("value").equals("Grace"));

        // when: chat on a new thread with it
        click("editor-close");
        new Select(byTestId("agent-select")).selectByValue(agentId);
        send("hello there");

        // then
        awaitAssistantText("You said: \"hello there\" (2 words).");
        await("the rendered instructions under the answer", d -> "Greet Grace warmly.".equals(
                byTestId("run-instructions-text").getAttribute("textContent")));
        assertThat(byTestId("thread-agent").getText()).isEqualTo("agent: Greeter · latest v2");
        assertThat(byTestId("run-agent-version").getText()).isEqualTo("agent v2");
        byTestId("run-instructions").findElement(By.tagName("summary")).click();
        screenshot("chat");

        // when: archived (from another tab: this page still offers it)
        assertThat(delete("/api/v1/agents/" + agentId)).isEqualTo(204);
        click("new-thread");
        new Select(byTestId("agent-select")).selectByValue(agentId);
        send("anyone there?");

        // then
        await("the refusal", d -> byTestId("error-banner").isDisplayed()
                && byTestId("error-text").getText().contains("agent_archived"));
        screenshot("archived-refused");

        // and the old thread still works
        clickInThread("hello there", "thread-open");
        await("the old thread", d -> userTexts().contains("hello there"));
        send("still here");
        awaitAssistantText("You said: \"still here\" (2 words).");

        // when: restored, then archived again, in the editor
        click("agents-button");
        await("the archived agent in the editor's list", d -> byTestId("editor-agent").getText().equals("Greeter (v2, archived)"));
        click("editor-agent");
        await("the archived agent", d -> byTestId("agent-restore").isDisplayed());
        assertThat(byTestId("agent-name").isEnabled()).isFalse();
        click("agent-restore");
        await("active again", d -> byTestId("editor-status").getText().endsWith("active") && byTestId("agent-archive").isDisplayed());
        click("agent-archive");
        await("archived again", d -> byTestId("editor-status").getText().endsWith("archived"));
        // the picker reloads after the editor shows the new status
        await("the archived agent gone from the picker",
                d -> driver.findElements(By.cssSelector("#agent-select option[value='" + agentId + "']")).isEmpty());
        assertThat(driver.findElements(By.cssSelector("#agent-editor b"))).isEmpty();
        screenshot("archived");

        // and at 375 px the editor fits the screen
        viewport(375, 700);
        assertThat(((Number) js("return document.documentElement.scrollWidth;")).intValue()).isLessThanOrEqualTo(375);
        screenshot("editor-375");
    }

    private String token() {
        return (String) js("return JSON.parse(localStorage.getItem('parley.session')).token;");
    }

    private int delete(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
                .header("Authorization", "Bearer " + token()).DELETE().build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    }
}
