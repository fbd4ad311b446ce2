package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ModelSettingsTest {

    @Test
    void should_take_each_setting_the_other_gives_and_keep_the_rest() {
        ModelSettings agent = new ModelSettings(0.2, 500, ReasoningEffort.LOW);

        assertThat(agent.overriddenBy(new ModelSettings(1.0, null, null))).isEqualTo(new ModelSettings(1.0, 500, ReasoningEffort.LOW));
        assertThat(agent.overriddenBy(new ModelSettings(null, 20, ReasoningEffort.HIGH)))
                .isEqualTo(new ModelSettings(0.2, 20, ReasoningEffort.HIGH));
        assertThat(agent.overriddenBy(ModelSettings.DEFAULT)).isSameAs(agent);
        assertThat(agent.overriddenBy(null)).isSameAs(agent);
        assertThat(ModelSettings.DEFAULT.overriddenBy(agent)).isEqualTo(agent);
    }

    @Test
    void should_refuse_out_of_range_values_naming_each_field() {
        assertThatThrownBy(() -> new ModelSettings(2.5, 0, null))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo("validation_failed");
                    assertThat(e.errors()).extracting(FieldError::field)
                            .containsExactly("model_settings.temperature", "model_settings.max_output_tokens");
                });
        assertThatThrownBy(() -> new ModelSettings(Double.NaN, null, null)).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> new ModelSettings(null, ModelSettings.MAX_OUTPUT_TOKENS + 1, null))
                .isInstanceOf(InvalidRequestException.class);
        assertThat(new ModelSettings(0.0, 1, ReasoningEffort.MEDIUM).temperature()).isZero();
        assertThat(new ModelSettings(2.0, ModelSettings.MAX_OUTPUT_TOKENS, null).maxOutputTokens()).isEqualTo(1_000_000);
    }

    @Test
    void should_keep_a_runs_settings_and_the_answer_it_continued_with_its_instructions() {
        RunInstructions used = new RunInstructions(2, "Be brief.").withSettings(new ModelSettings(0.5, null, null)).continuing("resp_1");

        assertThat(used).isEqualTo(new RunInstructions(2, "Be brief.", new ModelSettings(0.5, null, null), "resp_1"));
        assertThat(new RunInstructions(1, "").settings()).isEqualTo(ModelSettings.DEFAULT);
        assertThatThrownBy(() -> used.continuing("x".repeat(RunInstructions.MAX_CONTINUED_FROM + 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
