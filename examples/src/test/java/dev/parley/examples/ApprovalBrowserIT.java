package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * Approvals on the demo page in a real Chromium: the demo's {@code refund} tool needs a person's
 * approval of each call, so the trace panel shows each waiting call with its arguments and Approve /
 * Deny; a reload while the run waits shows them again; one approved and one denied (with a reason),
 * the run goes on and the answer says which order was refunded.
 */
class ApprovalBrowserIT extends BrowserTestBase {

    private List<WebElement> traceItems() {
        return driver.findElements(By.cssSelector("[data-testid=trace-item]"));
    }

    private WebElement traceFor(String order) {
        return await("the trace of order " + order, d -> traceItems().stream()
                .filter(i -> text(i, "trace-arguments").contains(order)).findFirst().orElse(null));
    }

    private void showTraces() {
        WebElement button = byTestId("trace-button");
        if (button.isDisplayed() && "false".equals(button.getAttribute("aria-expanded"))
                && !byTestId("trace-panel").isDisplayed()) {
            button.click();
        }
    }

    private void awaitWaitingCalls(int count) {
        await(count + " calls waiting for approval", d -> driver.findElements(By.cssSelector("[data-testid=approve-button]")).stream()
                .filter(WebElement::isEnabled).count() == count);
    }

    @Test
    void should_show_waiting_calls_across_a_reload_and_go_on_once_one_is_approved_and_the_other_denied() {
        // given: two refunds waiting for approval
        signIn("hana");
        send("refund A-1, B-2");
        showTraces();
        awaitWaitingCalls(2);
        assertThat(text(traceFor("A-1"), "trace-status")).isEqualToIgnoringCase("awaiting approval");
        screenshot("waiting");

        // when: the page is reloaded while the run waits
        driver.navigate().refresh();
        await("the chat view", d -> displayed(By.cssSelector("[data-testid=chat-view]")));
        showTraces();

        // then: the waiting calls are shown again
        awaitWaitingCalls(2);
        assertThat(traceItems()).hasSize(2);

        // when: one approved, the other denied with a reason
        traceFor("A-1").findElement(By.cssSelector("[data-testid=approve-button]")).click();
        await("A-1 approved", d -> text(traceFor("A-1"), "trace-status").equalsIgnoreCase("approved")
                || text(traceFor("A-1"), "trace-status").equalsIgnoreCase("completed"));
        WebElement b2 = traceFor("B-2");
        b2.findElement(By.cssSelector("[data-testid=approval-reason]")).sendKeys("no receipt");
        b2.findElement(By.cssSelector("[data-testid=deny-button]")).click();

        // then: the run goes on and answers
        awaitAssistantText("Order A-1 is refunded. I did not refund order B-2: the user denied this tool call: no receipt.");
        await("both calls ended", d -> text(traceFor("A-1"), "trace-status").equalsIgnoreCase("completed")
                && text(traceFor("B-2"), "trace-status").equalsIgnoreCase("denied"));
        assertThat(driver.findElements(By.cssSelector("[data-testid=approval]"))).isEmpty();
        assertThat(text(traceFor("B-2"), "trace-output")).contains("no receipt");
        screenshot("decided");

        // and a reload shows the ended calls, with nothing left to decide
        driver.navigate().refresh();
        await("the chat view", d -> displayed(By.cssSelector("[data-testid=chat-view]")));
        showTraces();
        await("the traces after the reload", d -> traceItems().size() == 2
                && text(traceFor("B-2"), "trace-status").equalsIgnoreCase("denied"));
        assertThat(driver.findElements(By.cssSelector("[data-testid=approve-button]"))).isEmpty();
    }
}
