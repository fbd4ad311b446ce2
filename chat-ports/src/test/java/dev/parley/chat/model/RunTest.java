package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RunTest {
    private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    private final IdGenerator ids = IdGenerator.timeOrdered();

    private Run queuedRun() {
        return Run.queued(RunId.next(ids), ThreadId.next(ids), "assistant", "demo", MessageId.next(ids), T0);
    }

    @Test
    void should_move_from_queued_to_in_progress_to_completed() {
        // given
        Run run = queuedRun();

        // when
        Run done = run.started(T0.plusSeconds(1))
                .completed(T0.plusSeconds(2), MessageId.next(ids), Usage.reported(10, 5), new BigDecimal("0.001"));

        // then
        assertThat(done.status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.startedAt()).isEqualTo(T0.plusSeconds(1));
        assertThat(done.completedAt()).isEqualTo(T0.plusSeconds(2));
        assertThat(done.usage().totalTokens()).isEqualTo(15);
    }

    @Test
    void should_never_leave_a_terminal_status() {
        // given
        Run cancelled = queuedRun().cancelled(T0, null, Usage.ZERO, null);

        // then
        assertThat(cancelled.completedAt()).isEqualTo(T0);
        assertThatThrownBy(() -> cancelled.started(T0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> cancelled.cancelled(T0, null, Usage.ZERO, null)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> cancelled.failed(T0, new RunError("model_error", "x"), null, Usage.ZERO, null))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void should_refuse_to_complete_a_run_that_never_started() {
        assertThatThrownBy(() -> queuedRun().completed(T0, MessageId.next(ids), Usage.ZERO, null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("queued");
    }

    @Test
    void should_price_usage_per_million_tokens() {
        ModelPrice price = ModelPrice.of("2.50", "10.00");

        assertThat(price.cost(Usage.reported(1_000, 500))).isEqualByComparingTo("0.0075");
    }
}
