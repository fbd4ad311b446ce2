package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ToolContext;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

class ClockToolTest {

    private static ToolContext context() {
        return new ToolContext("{}", "call_1", null, null, "alice", new Cancellation(), null);
    }

    @Test
    void should_answer_the_current_utc_time_in_iso_8601_to_the_second() throws Exception {
        // given
        Clock paris = Clock.fixed(Instant.parse("2026-11-22T10:30:15.789Z"), ZoneId.of("Europe/Paris"));

        // when
        String now = ClockTool.create(paris).execute(context());

        // then
        assertThat(now).isEqualTo("2026-11-22T10:30:15Z");
    }

    @Test
    void should_read_the_system_clock_by_default() throws Exception {
        // given
        Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS);

        // when
        Instant answered = Instant.parse(ClockTool.create().execute(context()));

        // then
        assertThat(answered).isBetween(before, Instant.now());
        assertThat(answered.atOffset(ZoneOffset.UTC).toString()).endsWith("Z");
    }
}
