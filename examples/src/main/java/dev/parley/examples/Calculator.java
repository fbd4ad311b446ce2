package dev.parley.examples;

import dev.parley.chat.model.ToolException;
import java.math.BigDecimal;
import java.math.MathContext;

/**
 * Evaluates arithmetic: {@code + - * /}, parentheses, decimals and unary minus, with the usual
 * precedence, by recursive descent. Exact decimal arithmetic (so {@code 0.1+0.2} is {@code 0.3});
 * results are rounded to 15 significant digits. Errors are {@link ToolException}s whose message
 * says what is wrong and where.
 */
final class Calculator {
    static final int MAX_LENGTH = 1_000;
    private static final int MAX_DEPTH = 100;
    private static final MathContext WORKING = MathContext.DECIMAL128;
    private static final MathContext RESULT = new MathContext(15);

    private final String text;
    private int pos;
    private int depth;

    private Calculator(String text) {
        this.text = text;
    }

    /** The value of {@code expression}, rounded to 15 significant digits. */
    static BigDecimal evaluate(String expression) {
        if (expression == null || expression.isBlank()) {
            throw new ToolException("The expression is empty.");
        }
        if (expression.length() > MAX_LENGTH) {
            throw new ToolException("The expression is longer than " + MAX_LENGTH + " characters.");
        }
        Calculator parser = new Calculator(expression);
        BigDecimal value = parser.expression();
        parser.skipSpaces();
        if (parser.pos < expression.length()) {
            throw parser.unexpected();
        }
        return value.round(RESULT);
    }

    /** {@code value} in plain notation without trailing zeros: {@code 42}, {@code 2.5}, {@code -0.125}. */
    static String format(BigDecimal value) {
        if (value.signum() == 0) {
            return "0";
        }
        return value.stripTrailingZeros().toPlainString();
    }

    // expression := term (('+' | '-') term)*
    private BigDecimal expression() {
        BigDecimal value = term();
        while (true) {
            skipSpaces();
            if (eat('+')) {
                value = value.add(term(), WORKING);
            } else if (eat('-')) {
                value = value.subtract(term(), WORKING);
            } else {
                return value;
            }
        }
    }

    // term := unary (('*' | '/') unary)*
    private BigDecimal term() {
        BigDecimal value = unary();
        while (true) {
            skipSpaces();
            if (eat('*')) {
                value = value.multiply(unary(), WORKING);
            } else if (peek() == '/') {
                int at = pos;
                pos++;
                BigDecimal divisor = unary();
                if (divisor.signum() == 0) {
                    throw new ToolException("Division by zero (at position " + (at + 1) + ").");
                }
                value = value.divide(divisor, WORKING);
            } else {
                return value;
            }
        }
    }

    // unary := ('-' | '+') unary | primary
    private BigDecimal unary() {
        skipSpaces();
        if (eat('-')) {
            return nested(() -> unary().negate());
        }
        if (eat('+')) {
            return nested(this::unary);
        }
        return primary();
    }

    // primary := number | '(' expression ')'
    private BigDecimal primary() {
        skipSpaces();
        if (eat('(')) {
            int open = pos;
            BigDecimal value = nested(this::expression);
            skipSpaces();
            if (!eat(')')) {
                if (pos >= text.length()) {
                    throw new ToolException("Missing ')' for the '(' at position " + open + ".");
                }
                throw unexpected();
            }
            return value;
        }
        return number();
    }

    private BigDecimal number() {
        int start = pos;
        boolean digits = false;
        while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
            pos++;
            digits = true;
        }
        if (pos < text.length() && text.charAt(pos) == '.') {
            pos++;
            while (pos < text.length() && Character.isDigit(text.charAt(pos)) && text.charAt(pos) < 128) {
                pos++;
                digits = true;
            }
        }
        if (!digits) {
            pos = start;
            throw unexpected();
        }
        return new BigDecimal(text.substring(start, pos));
    }

    private BigDecimal nested(java.util.function.Supplier<BigDecimal> inner) {
        if (++depth > MAX_DEPTH) {
            throw new ToolException("The expression is nested more than " + MAX_DEPTH + " levels deep.");
        }
        try {
            return inner.get();
        } finally {
            depth--;
        }
    }

    private ToolException unexpected() {
        if (pos >= text.length()) {
            return new ToolException("The expression ends too early: a number or '(' is missing at the end.");
        }
        int cp = text.codePointAt(pos);
        return new ToolException("Unexpected '" + new String(Character.toChars(cp)) + "' at position " + (pos + 1)
                + ": only numbers, + - * / and parentheses are allowed.");
    }

    private void skipSpaces() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private boolean eat(char c) {
        if (peek() == c) {
            pos++;
            return true;
        }
        return false;
    }
}
