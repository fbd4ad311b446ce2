package dev.parley.chat.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An agent's instructions as a template. {@code {{name}}} (spaces inside the braces allowed) is
 * replaced by the value of {@code name}; {@code \{{} writes a literal {@code {{}; nothing else is
 * special. Names are 1-64 of {@code A-Z a-z 0-9 _}, not starting with a digit. Any other
 * {@code {{} (unclosed, or around something that is not a name) is refused, so a typo never
 * reaches the model silently. Values are inserted as text and never expanded again.
 *
 * <p>Immutable and thread-safe. Parse errors and missing values are
 * {@link InvalidRequestException}s ({@code validation_failed}); nothing else is thrown.
 */
public final class InstructionTemplate {
    /** Names every template may use, filled in by the server for each run. */
    public static final Set<String> BUILT_IN_NAMES = Collections.unmodifiableSet(new LinkedHashSet<>(
            List.of("user_id", "now", "date", "thread_id", "thread_title", "agent_name")));
    /** The field named by parse errors. */
    public static final String FIELD = "instructions";
    static final int MAX_NAME_LENGTH = 64;

    /** Literal text (String) and placeholders (Name), in order. */
    private final List<Object> parts;
    private final Set<String> names;

    private record Name(String value) {}

    private InstructionTemplate(List<Object> parts, Set<String> names) {
        this.parts = List.copyOf(parts);
        this.names = Collections.unmodifiableSet(names);
    }

    /** Parses {@code text}; a malformed placeholder is a validation error on {@link #FIELD}. */
    public static InstructionTemplate parse(String text) {
        Require.notNull(text, "text");
        List<Object> parts = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == '\\' && text.startsWith("{{", i + 1)) {
                literal.append("{{");
                i += 3;
            } else if (c == '{' && text.startsWith("{{", i)) {
                int close = text.indexOf("}}", i + 2);
                if (close < 0) {
                    throw error("has an unclosed {{ at character " + i + " (write \\{{ for a literal {{)");
                }
                String name = text.substring(i + 2, close).strip();
                if (!isName(name)) {
                    throw error("has {{" + abbreviate(name) + "}} at character " + i
                            + ", which is not a variable name (write \\{{ for a literal {{)");
                }
                if (literal.length() > 0) {
                    parts.add(literal.toString());
                    literal.setLength(0);
                }
                parts.add(new Name(name));
                names.add(name);
                i = close + 2;
            } else {
                literal.append(c);
                i++;
            }
        }
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        return new InstructionTemplate(parts, names);
    }

    /** True when {@code name} is a valid variable name. */
    public static boolean isName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
            boolean digit = c >= '0' && c <= '9';
            if (!(letter || (digit && i > 0))) {
                return false;
            }
        }
        return true;
    }

    /** The names the template uses, in order of first use. */
    public Set<String> names() {
        return names;
    }

    /**
     * The text with every placeholder replaced by its value from {@code values}, inserted as is. A
     * name without a value is a validation error on {@code variables.<name>}.
     */
    public String render(Map<String, String> values) {
        Require.notNull(values, "values");
        StringBuilder out = new StringBuilder();
        for (Object part : parts) {
            if (part instanceof Name name) {
                String value = values.get(name.value());
                if (value == null) {
                    throw InvalidRequestException.field("variables." + name.value(), "has no value");
                }
                out.append(value);
            } else {
                out.append((String) part);
            }
        }
        return out.toString();
    }

    private static InvalidRequestException error(String message) {
        return InvalidRequestException.field(FIELD, message);
    }

    private static String abbreviate(String name) {
        return name.length() <= 40 ? name : name.substring(0, 40) + "...";
    }
}
