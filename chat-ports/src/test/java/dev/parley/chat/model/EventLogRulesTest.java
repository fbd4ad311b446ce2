package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.EventLogRules.Breach;
import org.junit.jupiter.api.Test;

class EventLogRulesTest {
    private final IdGenerator ids = IdGenerator.timeOrdered();
    private final RunId run = RunId.next(ids);

    private RunEvent token(long seq) {
        return new RunEvent.Token(run, seq, "x");
    }

    @Test
    void should_let_the_next_seq_follow_a_log_that_goes_on() {
        assertThat(EventLogRules.breach(0, false, token(1))).isNull();
        assertThat(EventLogRules.breach(4, false, token(5))).isNull();
    }

    @Test
    void should_name_the_rule_an_event_would_break() {
        assertThat(EventLogRules.breach(0, false, new RunEvent.Heartbeat(run))).isEqualTo(Breach.NOT_REPLAYABLE);
        assertThat(EventLogRules.breach(4, false, token(4))).isEqualTo(Breach.DUPLICATE);
        assertThat(EventLogRules.breach(4, false, token(6))).isEqualTo(Breach.GAP);
        assertThat(EventLogRules.breach(4, true, token(5))).isEqualTo(Breach.AFTER_END);
        // a seq already in an ended log is a duplicate: a retry of what was stored
        assertThat(EventLogRules.breach(4, true, token(4))).isEqualTo(Breach.DUPLICATE);
    }

    @Test
    void should_refuse_for_a_store_with_the_conflict_codes_of_the_port() {
        assertThatCode(() -> EventLogRules.requireAppendable(4, false, token(5))).doesNotThrowAnyException();
        assertThatThrownBy(() -> EventLogRules.requireAppendable(4, false, token(3)))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
        assertThatThrownBy(() -> EventLogRules.requireAppendable(4, true, token(5)))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.RUN_ENDED));
        assertThatThrownBy(() -> EventLogRules.requireAppendable(4, false, token(7))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EventLogRules.requireAppendable(0, false, new RunEvent.Heartbeat(run)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_refuse_for_a_bus_with_an_illegal_argument() {
        assertThatCode(() -> EventLogRules.requirePublishable(0, false, token(1))).doesNotThrowAnyException();
        assertThatThrownBy(() -> EventLogRules.requirePublishable(4, false, token(3))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EventLogRules.requirePublishable(4, true, token(5))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EventLogRules.requirePublishable(4, false, token(7))).isInstanceOf(IllegalArgumentException.class);
    }
}
