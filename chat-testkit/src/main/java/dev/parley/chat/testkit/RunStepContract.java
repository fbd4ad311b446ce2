package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aStep;
import static dev.parley.chat.testkit.Fixtures.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link dev.parley.chat.port.out.RunStore}'s steps (what a run did, in order): extend it and
 * implement {@link #createStore()}.
 */
public abstract class RunStepContract extends RunContractSupport {
    @Test
    void should_round_trip_steps_ordered_by_position() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step third = aStep().ofRun(run).atPosition(3).messageCreation().startedAt(at(30)).build();
        Step first = aStep().ofRun(run).atPosition(1)
                .callingTool(new ToolCall("call_1", "search", "{\"q\":\"" + Fixtures.UNICODE.replace("\"", "").replace("\\", "")
                        .replace("\n", " ").replace("\t", " ") + "\"}"))
                .startedAt(at(10)).withUsage(Usage.reported(3, 4)).completed(Fixtures.longText(5000)).build();
        Step second = aStep().ofRun(run).atPosition(2).startedAt(at(20)).failed("tool_timeout: took longer than 30s").build();

        // when
        store.runs().insertStep(third);
        store.runs().insertStep(first);
        store.runs().insertStep(second);

        // then
        assertThat(store.runs().steps(run.id())).containsExactly(first, second, third);
        assertThat(store.runs().steps(Fixtures.runId())).isEmpty();
    }

    @Test
    void should_replace_a_step_matched_by_id() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step step = aStep().ofRun(run).startedAt(at(10)).build();
        store.runs().insertStep(step);
        Step done = step.completed(at(35), "42", Usage.reported(1, 1));

        // when
        store.runs().updateStep(done);

        // then
        assertThat(store.runs().steps(run.id())).containsExactly(done);
        assertThat(store.runs().steps(run.id()).get(0).latencyMs()).isEqualTo(25L);
    }

    @Test
    void should_refuse_a_second_step_with_the_same_id() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step step = aStep().ofRun(run).build();
        store.runs().insertStep(step);

        // when / then
        assertThatThrownBy(() -> store.runs().insertStep(aStep().ofRun(run).withId(step.id()).atPosition(2).build()))
                .isInstanceOfSatisfying(ConflictException.class, e -> assertThat(e.reason()).isEqualTo(ConflictException.Reason.DUPLICATE));
    }

    @Test
    void should_keep_step_status_after_an_update_to_cancelled() {
        // given
        Run run = givenRun(aRunHere().inProgress());
        Step step = aStep().ofRun(run).build();
        store.runs().insertStep(step);

        // when
        store.runs().updateStep(step.cancelled(at(5), Usage.ZERO));

        // then
        assertThat(store.runs().steps(run.id())).singleElement()
                .satisfies(s -> assertThat(s.status()).isEqualTo(StepStatus.CANCELLED));
    }
}
