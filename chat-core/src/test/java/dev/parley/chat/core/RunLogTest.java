package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.testkit.Fixtures;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** Which of a run's events its publisher lets the woken deliveries hand over first. */
class RunLogTest {
    private final RunId run = Fixtures.runId();
    private final RunLog log = new RunLog(run);

    @Test
    void should_await_only_the_first_text_and_the_end_of_a_run() {
        assertThat(log.awaited(new RunEvent.RunStarted(run, 1, Fixtures.threadId(), Fixtures.messageId(), "agent"))).isFalse();
        assertThat(log.awaited(new RunEvent.Token(run, 2, "Hel"))).isTrue();
        assertThat(log.awaited(new RunEvent.Token(run, 3, "lo"))).isFalse();
        assertThat(log.awaited(new RunEvent.Thinking(run, 4, "hmm"))).isFalse();
        assertThat(log.awaited(new RunEvent.Done(run, 5, Fixtures.threadId(), Fixtures.messageId(), Usage.ZERO, BigDecimal.ZERO)))
                .isTrue();
    }

    @Test
    void should_await_a_first_thinking_event_as_the_runs_first_text() {
        assertThat(log.awaited(new RunEvent.Thinking(run, 1, "let me see"))).isTrue();
        assertThat(log.awaited(new RunEvent.Token(run, 2, "Yes"))).isFalse();
        assertThat(log.awaited(new RunEvent.Cancelled(run, 3, null))).isTrue();
    }
}
