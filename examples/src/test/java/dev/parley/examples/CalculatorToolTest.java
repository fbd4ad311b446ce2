package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CalculatorToolTest {
    private final Tool tool = CalculatorTool.create();

    private String run(String arguments) throws Exception {
        return tool.execute(new ToolContext(arguments, "call_1", null, null, "alice", new Cancellation(), null));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
            "6*7               | 42",
            "1 + 2 * 3         | 7",
            "(1 + 2) * 3       | 9",
            "10 / 4            | 2.5",
            "-3 + 5            | 2",
            "-(2 + 3) * 2      | -10",
            "2 * -3            | -6",
            "--4               | 4",
            "0.1 + 0.2         | 0.3",
            "1.5 * 2           | 3",
            "8 / 2 / 2         | 2",
            "10 - 4 - 3        | 3",
            "1 / 3             | 0.333333333333333",
            "2 / 3             | 0.666666666666667",
            ".5 + 1.           | 1.5",
            "1000000 * 1000000 | 1000000000000",
            "3 - 3             | 0",
            "((((7))))         | 7",
    })
    void should_evaluate_with_precedence_parentheses_decimals_and_unary_minus(String expression, String expected) throws Exception {
        // when
        String result = run("{\"expression\": \"" + expression + "\"}");

        // then
        assertThat(result).isEqualTo(expected);
    }

    @Test
    void should_fail_with_a_clear_message_on_division_by_zero() {
        assertThatThrownBy(() -> run("{\"expression\": \"1 / (2 - 2)\"}"))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("Division by zero");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "2 +        | ends too early",
            "2 $ 3      | Unexpected '$' at position 3",
            "(1 + 2     | Missing ')'",
            "1 + 2)     | Unexpected ')'",
            "abc        | Unexpected 'a' at position 1",
            "1..2       | Unexpected '.'",
            "'   '      | empty",
    })
    void should_fail_with_a_clear_message_on_bad_syntax(String expression, String message) {
        assertThatThrownBy(() -> run("{\"expression\": \"" + expression + "\"}"))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining(message);
    }

    @Test
    void should_refuse_arguments_without_an_expression() {
        assertThatThrownBy(() -> run("{\"expr\": \"1\"}"))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("\"expression\"");
        assertThatThrownBy(() -> run("not json"))
                .isInstanceOf(ToolException.class);
        assertThatThrownBy(() -> run("{\"expression\": 42}"))
                .isInstanceOf(ToolException.class);
    }

    @Test
    void should_refuse_absurdly_deep_nesting_instead_of_overflowing_the_stack() {
        String deep = "(".repeat(400) + "1" + ")".repeat(400);
        assertThatThrownBy(() -> run("{\"expression\": \"" + deep + "\"}"))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("nested");
    }

    @Test
    void should_refuse_expressions_longer_than_the_limit() {
        String longOne = "1+".repeat(600) + "1";
        assertThatThrownBy(() -> run("{\"expression\": \"" + longOne + "\"}"))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("longer than");
    }

    @Test
    void should_describe_itself_with_a_json_schema_requiring_expression() {
        assertThat(tool.name()).isEqualTo("calculator");
        assertThat(tool.spec().parametersSchema()).contains("\"required\":[\"expression\"]");
    }
}
