package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The wire codes are part of the HTTP contract and of stored runs: a typed reason must never change them. */
class ReasonCodesTest {

    @Test
    void should_keep_the_wire_code_of_every_conflict_reason() {
        assertThat(Arrays.stream(ConflictException.Reason.values()).map(ConflictException.Reason::wireName))
                .containsExactly("run_in_progress", "no_active_run", "duplicate", "run_ended", "conflict",
                        "agent_archived", "agent_version_conflict", "not_awaiting_approval");
    }

    @Test
    void should_keep_the_wire_code_of_every_invalid_request_reason() {
        assertThat(Arrays.stream(InvalidRequestException.Reason.values()).map(InvalidRequestException.Reason::wireName))
                .containsExactly("validation_failed", "invalid_parameter", "idempotency_key_reused", "not_editable");
    }

    @Test
    void should_carry_the_reasons_code_as_the_exception_code() {
        // given
        ConflictException conflict = ConflictException.runInProgress(new ThreadId("thr_1"));
        InvalidRequestException invalid = InvalidRequestException.parameter("cursor", "is not a cursor");

        // then
        assertThat(conflict.reason()).isEqualTo(ConflictException.Reason.RUN_IN_PROGRESS);
        assertThat(conflict.code()).isEqualTo("run_in_progress");
        assertThat(ConflictException.noActiveRun("thread thr_1").code()).isEqualTo("no_active_run");
        assertThat(ConflictException.duplicate("thread thr_1").code()).isEqualTo("duplicate");
        assertThat(ConflictException.runEnded(new RunId("run_1")).code()).isEqualTo("run_ended");
        assertThat(invalid.reason()).isEqualTo(InvalidRequestException.Reason.INVALID_PARAMETER);
        assertThat(invalid.code()).isEqualTo("invalid_parameter");
        assertThat(InvalidRequestException.field("content", "must not be empty").code()).isEqualTo("validation_failed");
        assertThat(invalid.errors()).isEqualTo(List.of(new FieldError("cursor", "is not a cursor")));
    }

    @Test
    void should_find_a_reason_by_its_wire_code() {
        assertThat(WireEnum.fromWire(ConflictException.Reason.class, "conflict")).contains(ConflictException.Reason.CONSTRAINT);
        assertThat(WireEnum.fromWire(ConflictException.Reason.class, "CONSTRAINT")).isEmpty();
    }
}
