package dev.parley.chat.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InstructionTemplateTest {

    @Test
    void should_replace_names_with_their_values() {
        InstructionTemplate t = InstructionTemplate.parse("Hi {{user_id}}, you speak {{ language }}.");

        assertThat(t.names()).containsExactly("user_id", "language");
        assertThat(t.render(Map.of("user_id", "alice", "language", "Dutch"))).isEqualTo("Hi alice, you speak Dutch.");
    }

    @Test
    void should_never_expand_a_value_again() {
        InstructionTemplate t = InstructionTemplate.parse("[{{a}}]");

        assertThat(t.render(Map.of("a", "{{a}} \\{{b}}"))).isEqualTo("[{{a}} \\{{b}}]");
    }

    @Test
    void should_write_a_literal_pair_of_braces_for_an_escaped_one() {
        InstructionTemplate t = InstructionTemplate.parse("Use \\{{name}} syntax, {{x}}; a lone } or { or \\ stays.");

        assertThat(t.names()).containsExactly("x");
        assertThat(t.render(Map.of("x", "1"))).isEqualTo("Use {{name}} syntax, 1; a lone } or { or \\ stays.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{{", "open {{name", "{{}}", "{{a b}}", "{{1abc}}", "{{a-b}}", "{{ {{a}} }}"})
    void should_refuse_a_malformed_placeholder_naming_instructions(String text) {
        assertThatThrownBy(() -> InstructionTemplate.parse(text))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo("validation_failed");
                    assertThat(e.errors()).extracting(FieldError::field).containsExactly("instructions");
                });
    }

    @Test
    void should_name_the_variable_that_has_no_value() {
        InstructionTemplate t = InstructionTemplate.parse("{{tone}}");

        assertThatThrownBy(() -> t.render(Map.of()))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("variables.tone"));
    }
}
