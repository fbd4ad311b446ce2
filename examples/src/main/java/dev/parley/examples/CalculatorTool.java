package dev.parley.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ToolException;
import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import java.io.IOException;

/**
 * The {@code calculator} tool: evaluates {@code {"expression": "(1.5 + 2) * -3"}} with
 * {@code + - * /}, parentheses, decimals and unary minus, and answers the result as plain text
 * ({@code 42}, {@code 2.5}). A bad expression or a division by zero fails the call with a message
 * that says why. Thread-safe.
 */
public final class CalculatorTool implements Tool {
    /** The tool's name, as the model calls it. */
    public static final String NAME = "calculator";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Evaluates an arithmetic expression with + - * /, parentheses and decimals, and returns the result.";
    }

    @Override
    public String parametersSchema() {
        return """
                {"type":"object","properties":{"expression":{"type":"string",\
                "description":"The expression to evaluate, for example (1.5 + 2) * 4"}},\
                "required":["expression"],"additionalProperties":false}""";
    }

    @Override
    public String execute(ToolContext context) {
        return calculate(expressionOf(context.arguments()));
    }

    /** The formatted value of {@code expression}; throws ToolException when it cannot be evaluated. */
    public static String calculate(String expression) {
        return Calculator.format(Calculator.evaluate(expression));
    }

    static String expressionOf(String arguments) {
        JsonNode node;
        try {
            node = JSON.readTree(arguments);
        } catch (IOException e) {
            node = null;
        }
        JsonNode expression = node == null || !node.isObject() ? null : node.get("expression");
        if (expression == null || !expression.isTextual()) {
            throw new ToolException("The arguments must be a JSON object with a string field \"expression\".");
        }
        return expression.asText();
    }
}
