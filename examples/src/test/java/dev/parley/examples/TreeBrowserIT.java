package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

/**
 * The conversation tree on the demo page in a real Chromium: editing a question in place and
 * flipping back to its first version, regenerating an answer into three versions, deleting a
 * subtree, the same history after a reload, and an edit queued behind a streaming answer.
 */
class TreeBrowserIT extends BrowserTestBase {

    @Test
    void should_edit_a_question_in_place_then_flip_back_to_the_first_version_and_keep_it_after_reload() {
        // given
        signIn("tina");
        send("hello there");
        awaitAssistantText("You said: \"hello there\" (2 words).");

        // when: the question is edited in place and resent
        WebElement question = userBubble("hello there");
        act(question, "message-edit");
        WebElement input = await("the edit box", d -> displayed(By.cssSelector("[data-testid=edit-input]")));
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), "good morning");
        click("edit-send");

        // then
        awaitAssistantText("You said: \"good morning\" (2 words).");
        await("the edited question as version 2/2", d -> versionLabel(userBubble("good morning")).equals("2/2"));
        assertThat(questionTexts()).containsExactly("good morning");
        screenshot("edited");

        // and when: back to the first version
        act(userBubble("good morning"), "version-prev");

        // then
        awaitAssistantText("You said: \"hello there\" (2 words).");
        await("the first question as version 1/2", d -> versionLabel(userBubble("hello there")).equals("1/2"));
        assertThat(questionTexts()).containsExactly("hello there");

        // and when: the page is loaded again
        driver.navigate().refresh();

        // then: the same branch
        await("the first question after reload", d -> questionTexts().equals(List.of("hello there")));
        assertThat(versionLabel(userBubble("hello there"))).isEqualTo("1/2");
        awaitAssistantText("You said: \"hello there\" (2 words).");
    }

    @Test
    void should_regenerate_an_answer_twice_and_flip_through_three_answers() {
        // given
        signIn("rita");
        send("count to 3");
        await("the first answer", d -> finishedAnswers().size() == 1);

        // when
        act(lastAnswer(), "message-regenerate");
        await("the second answer as 2/2", d -> finishedAnswers().size() == 1 && "2/2".equals(versionLabel(lastAnswer())));
        act(lastAnswer(), "message-regenerate");
        await("the third answer as 3/3", d -> finishedAnswers().size() == 1 && "3/3".equals(versionLabel(lastAnswer())));

        // then: the arrows walk back through them and forth again
        act(lastAnswer(), "version-prev");
        await("answer 2/3", d -> "2/3".equals(versionLabel(lastAnswer())));
        act(lastAnswer(), "version-prev");
        await("answer 1/3", d -> "1/3".equals(versionLabel(lastAnswer())));
        assertThat(lastAnswer().findElement(By.cssSelector("[data-testid=version-prev]")).isEnabled()).isFalse();
        act(lastAnswer(), "version-next");
        await("answer 2/3 again", d -> "2/3".equals(versionLabel(lastAnswer())));
        assertThat(questionTexts()).containsExactly("count to 3");
        assertThat(runMetas()).as("the summaries of the runs on this branch only").hasSize(1);
        screenshot("regenerated");
    }

    @Test
    void should_delete_a_question_and_its_answer_after_a_confirmation() {
        // given
        signIn("dora");
        send("first question");
        awaitAssistantText("You said: \"first question\" (2 words).");
        send("second question");
        awaitAssistantText("You said: \"second question\" (2 words).");

        // when: the first click asks, the second deletes
        act(userBubble("second question"), "message-delete");
        WebElement confirm = userBubble("second question").findElement(By.cssSelector("[data-testid=message-delete-confirm]"));
        assertThat(questionTexts()).containsExactly("first question", "second question");
        confirm.click();

        // then
        await("the second question gone", d -> questionTexts().equals(List.of("first question")));
        assertThat(finishedAnswers()).hasSize(1);
        driver.navigate().refresh();
        await("the same history after reload", d -> questionTexts().equals(List.of("first question")) && finishedAnswers().size() == 1);
    }

    @Test
    void should_queue_an_edit_made_while_an_answer_streams_and_answer_it_once_that_answer_has_ended() {
        // given: a long answer streaming below an earlier question
        signIn("quinn");
        send("hello there");
        awaitAssistantText("You said: \"hello there\" (2 words).");
        send("count to 1000");
        await("the count streaming", d -> streamingBubble().isPresent());

        // when: the earlier question is edited meanwhile
        act(userBubble("hello there"), "message-edit");
        WebElement input = await("the edit box", d -> displayed(By.cssSelector("[data-testid=edit-input]")));
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), "good evening");
        click("edit-send");

        // then: the page says the edit waits, and the count goes on where it was asked
        await("the queued notice", d -> displayed(By.cssSelector("[data-testid=queued-notice]")));
        assertThat(driver.findElements(By.cssSelector("[data-testid=edit-form]"))).isEmpty();
        assertThat(streamingBubble()).isPresent();
        assertThat(questionTexts()).containsExactly("hello there", "count to 1000");
        screenshot("edit-queued");

        // and then: once the count has ended, the edit is answered on its own branch
        awaitAssistantText("You said: \"good evening\" (2 words).");
        await("the edited question as version 2/2", d -> versionLabel(userBubble("good evening")).equals("2/2"));
        assertThat(questionTexts()).containsExactly("good evening");
        assertThat(driver.findElements(By.cssSelector("[data-testid=queued-notice]"))).isEmpty();

        // and the first version kept the whole count
        act(userBubble("good evening"), "version-prev");
        await("the first branch", d -> questionTexts().equals(List.of("hello there", "count to 1000")));
        awaitAssistantText(java.util.stream.IntStream.rangeClosed(1, 1000).mapToObj(Integer::toString)
                .collect(java.util.stream.Collectors.joining(" ")));
    }

    // ------------------------------------------------------------------ helpers

    /** Hovers the message (its actions show on hover) and clicks its control {@code testId}. */
    private void act(WebElement message, String testId) {
        await("\"" + testId + "\" on a message", d -> {
            new Actions(driver).moveToElement(message).perform();
            WebElement control = message.findElement(By.cssSelector("[data-testid=" + testId + "]"));
            if (!control.isDisplayed() || !control.isEnabled()) {
                return false;
            }
            control.click();
            return true;
        });
    }

    private WebElement userBubble(String text) {
        return await("the question \"" + text + "\"", d -> driver.findElements(By.cssSelector("[data-testid=message][data-role=user]"))
                .stream().filter(m -> m.findElement(By.cssSelector("[data-testid=message-text]")).getText().equals(text))
                .findFirst().orElse(null));
    }

    private List<String> questionTexts() {
        return driver.findElements(By.cssSelector("[data-testid=message][data-role=user] [data-testid=message-text]")).stream()
                .map(WebElement::getText).toList();
    }

    private List<WebElement> finishedAnswers() {
        return assistantBubbles().stream().filter(b -> b.getAttribute("data-streaming") == null).toList();
    }

    private WebElement lastAnswer() {
        return await("an answer", d -> {
            List<WebElement> answers = finishedAnswers();
            return answers.isEmpty() ? null : answers.get(answers.size() - 1);
        });
    }

    private static String versionLabel(WebElement message) {
        List<WebElement> labels = message.findElements(By.cssSelector("[data-testid=version-label]"));
        return labels.isEmpty() ? "" : labels.get(0).getText();
    }
}
