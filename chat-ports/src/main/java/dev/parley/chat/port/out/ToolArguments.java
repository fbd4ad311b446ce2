package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.ToolException;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The arguments object of one tool call, read with typed accessors:
 * {@code args.string("city")}, {@code args.optionalInteger("days").orElse(1)}.
 *
 * <p>Every failure is a {@link ToolException} whose message is written for the model (it names the
 * argument and what was expected), so a tool that lets it propagate hands the model a clear error
 * result it can correct, and the run goes on. A required accessor fails when the argument is
 * missing, null or of another type; an optional one is empty when the argument is missing or null
 * and fails only when it is of another type. Immutable and thread-safe.
 */
public final class ToolArguments {
    private final String json;
    private final Map<String, Object> values;

    private ToolArguments(String json, Map<String, Object> values) {
        this.json = json;
        this.values = values;
    }

    /**
     * Reads {@code json}, the arguments text a model produced; blank counts as {@code {}}. Anything
     * but a JSON object is a ToolException.
     */
    public static ToolArguments parse(String json) {
        Require.notNull(json, "json");
        if (json.isBlank()) {
            return new ToolArguments(json, Map.of());
        }
        Object parsed;
        try {
            parsed = JsonText.parse(json);
        } catch (IllegalArgumentException e) {
            throw new ToolException("The arguments are not valid JSON (" + e.getMessage() + "); send a JSON object.");
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new ToolException("The arguments must be a JSON object.");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> members = (Map<String, Object>) map;
        return new ToolArguments(json, members);
    }

    /** The text as the model wrote it, for arguments richer than these accessors read. */
    public String json() {
        return json;
    }

    /** The names of the arguments present, in the order the model wrote them. */
    public Set<String> names() {
        return values.keySet();
    }

    /** True when {@code name} is present and not null. */
    public boolean has(String name) {
        return values.get(name) != null;
    }

    /** The string argument {@code name}. */
    public String string(String name) {
        return optionalString(name).orElseThrow(() -> missing(name, "a string"));
    }

    /** The string argument {@code name}, or empty when it is missing or null. */
    public Optional<String> optionalString(String name) {
        Object value = values.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String text)) {
            throw wrongType(name, "a string");
        }
        return Optional.of(text);
    }

    /** The integer argument {@code name} (a JSON number without a fraction, within the range of a long). */
    public long integer(String name) {
        OptionalLong value = optionalInteger(name);
        if (value.isEmpty()) {
            throw missing(name, "an integer");
        }
        return value.getAsLong();
    }

    /** The integer argument {@code name}, or empty when it is missing or null. */
    public OptionalLong optionalInteger(String name) {
        Object value = values.get(name);
        if (value == null) {
            return OptionalLong.empty();
        }
        if (!(value instanceof BigDecimal number)) {
            throw wrongType(name, "an integer");
        }
        // precision - scale counts the digits before the point: checked first, so that 1e999999 stays cheap
        if (number.precision() - number.scale() > 19) {
            throw wrongType(name, "an integer");
        }
        BigDecimal whole = number.stripTrailingZeros();
        if (whole.scale() > 0) {
            throw wrongType(name, "an integer");
        }
        try {
            return OptionalLong.of(whole.longValueExact());
        } catch (ArithmeticException e) {
            throw wrongType(name, "an integer");
        }
    }

    /** The number argument {@code name}. */
    public double number(String name) {
        OptionalDouble value = optionalNumber(name);
        if (value.isEmpty()) {
            throw missing(name, "a number");
        }
        return value.getAsDouble();
    }

    /** The number argument {@code name}, or empty when it is missing or null. */
    public OptionalDouble optionalNumber(String name) {
        Object value = values.get(name);
        if (value == null) {
            return OptionalDouble.empty();
        }
        if (!(value instanceof BigDecimal number)) {
            throw wrongType(name, "a number");
        }
        double d = number.doubleValue();
        if (Double.isInfinite(d)) {
            throw wrongType(name, "a number in the range of a double");
        }
        return OptionalDouble.of(d);
    }

    /** The boolean argument {@code name}. */
    public boolean bool(String name) {
        return optionalBool(name).orElseThrow(() -> missing(name, "true or false"));
    }

    /** The boolean argument {@code name}, or empty when it is missing or null. */
    public Optional<Boolean> optionalBool(String name) {
        Object value = values.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof Boolean flag)) {
            throw wrongType(name, "true or false");
        }
        return Optional.of(flag);
    }

    @Override
    public String toString() {
        return json;
    }

    private static ToolException missing(String name, String what) {
        return new ToolException("The argument \"" + name + "\" is required: " + what + ".");
    }

    private static ToolException wrongType(String name, String what) {
        return new ToolException("The argument \"" + name + "\" must be " + what + ".");
    }
}
