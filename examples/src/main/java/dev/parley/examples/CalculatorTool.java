package dev.parley.examples;

import dev.parley.chat.port.out.Schema;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolArguments;

/**
 * The {@code calculator} tool: evaluates {@code {"expression": "(1.5 + 2) * -3"}} with
 * {@code + - * /}, parentheses, decimals and unary minus, and answers the result as plain text
 * ({@code 42}, {@code 2.5}). A bad expression or a division by zero fails the call with a message
 * that says why. Thread-safe.
 */
public final class CalculatorTool {
    /** The tool's name, as the model calls it. */
    public static final String NAME = "calculator";

    private CalculatorTool() {
    }

    /** The tool. */
    public static Tool create() {
        return Tool.of(NAME,
                "Evaluates an arithmetic expression with + - * /, parentheses and decimals, and returns the result.",
                Schema.object()
                        .string("expression", "The expression to evaluate, for example (1.5 + 2) * 4")
                        .required("expression"),
                ctx -> calculate(ctx.args().string("expression")));
    }

    /** The formatted value of {@code expression}; throws ToolException when it cannot be evaluated. */
    public static String calculate(String expression) {
        return Calculator.format(Calculator.evaluate(expression));
    }

    /** The expression in a call's {@code arguments}; ToolException when there is none. */
    static String expressionOf(String arguments) {
        return ToolArguments.parse(arguments).string("expression");
    }
}
