package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentDefinitionTest {

    private static AgentDefinition define(String name, String instructions, List<String> tools, List<AgentVariable> variables) {
        return new AgentDefinition(name, null, instructions, null, null, tools, variables, null, null);
    }

    private static List<String> fieldsOf(Runnable r) {
        try {
            r.run();
        } catch (InvalidRequestException e) {
            assertThat(e.code()).isEqualTo("validation_failed");
            return e.errors().stream().map(FieldError::field).toList();
        }
        throw new AssertionError("no validation error");
    }

    @Test
    void should_default_to_a_private_agent_with_default_settings() {
        AgentDefinition d = define("Support", "Help {{user_id}} in {{lang}}.", List.of("clock"),
                List.of(new AgentVariable("lang", "language", false, "English")));

        assertThat(d.visibility()).isEqualTo(AgentVisibility.PRIVATE);
        assertThat(d.modelSettings().isDefault()).isTrue();
        assertThat(d.template().names()).containsExactly("user_id", "lang");
    }

    @Test
    void should_refuse_an_undeclared_name_in_the_instructions() {
        assertThat(fieldsOf(() -> define("A", "Hi {{who}}", List.of(), List.of()))).containsExactly("instructions");
    }

    @Test
    void should_name_each_broken_field() {
        List<String> fields = fieldsOf(() -> new AgentDefinition(" ", "x\0y", "ok", "", null,
                List.of("ok", "bad name!", "ok"), List.of(new AgentVariable("now", null, true, null),
                new AgentVariable("9x", null, false, null)), null, Map.of("k", "v\0")));

        assertThat(fields).containsExactly("name", "description", "model", "tools[1].name", "tools[2].name",
                "variables[0].name", "variables[1].name", "metadata.k");
    }

    @Test
    void should_bound_instructions_tools_and_variables() {
        String longText = "é".repeat(AgentDefinition.MAX_INSTRUCTIONS + 1);
        List<String> tools = Collections.nCopies(AgentDefinition.MAX_TOOLS + 1, "t");
        List<AgentVariable> vars = Collections.nCopies(AgentDefinition.MAX_VARIABLES + 1, new AgentVariable("v", null, false, null));

        assertThat(fieldsOf(() -> define("A", longText, tools, vars))).containsExactly("tools", "variables", "instructions");
        assertThat(define("A", "😀".repeat(AgentDefinition.MAX_INSTRUCTIONS), List.of(), List.of()).instructions()).isNotEmpty();
    }

    @Test
    void should_validate_model_settings() {
        assertThat(fieldsOf(() -> new ModelSettings(2.5, 0, null)))
                .containsExactly("model_settings.temperature", "model_settings.max_output_tokens");
        assertThat(new ModelSettings(0.0, 1_000_000, ReasoningEffort.HIGH).isDefault()).isFalse();
    }

    @Test
    void should_require_approval_only_of_its_own_tools_within_a_bounded_timeout() {
        AgentDefinition base = new AgentDefinition("A", null, null, null, null, List.of("refund"), null, null, null);

        assertThat(base.approvalTools()).isEmpty();
        assertThat(base.approvalTimeoutSeconds()).isNull();
        assertThat(base.withApprovals(List.of("refund"), 60).approvalTools()).containsExactly("refund");
        assertThatThrownBy(() -> base.withApprovals(List.of("email"), null))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("tools"));
        assertThatThrownBy(() -> base.withApprovals(List.of(), 0))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("approval_timeout_seconds"));
        assertThatThrownBy(() -> base.withApprovals(List.of(), AgentDefinition.MAX_APPROVAL_TIMEOUT_SECONDS + 1))
                .isInstanceOf(InvalidRequestException.class);
    }
}
