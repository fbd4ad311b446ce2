package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The JSON Schema of a tool's arguments object, built in code instead of written as text:
 *
 * <pre>{@code
 * Schema.object()
 *         .string("city", "The city, e.g. Lisbon")
 *         .integer("days", "How many days, 1 to 7")
 *         .choice("unit", "Temperature unit", "celsius", "fahrenheit")
 *         .required("city")
 * }</pre>
 *
 * <p>It yields {@code {"type":"object","properties":{...},"required":[...],"additionalProperties":false}}:
 * properties in the order they were added, each with its type and description, and no argument
 * outside them. Each method returns a new schema (immutable, thread-safe); a property name given
 * twice, or a required name that is not a property, is an IllegalArgumentException. For shapes this
 * does not cover (nested objects, arrays), give the tool a schema text instead.
 */
public final class Schema {
    private static final Schema EMPTY = new Schema(List.of(), List.of(), List.of());

    /** Each property as its JSON member text, {@code "name":{...}}. */
    private final List<String> properties;
    private final List<String> names;
    private final List<String> required;

    private Schema(List<String> properties, List<String> names, List<String> required) {
        this.properties = properties;
        this.names = names;
        this.required = required;
    }

    /** An object schema with no properties yet: the schema of a tool that takes no arguments. */
    public static Schema object() {
        return EMPTY;
    }

    /** Adds a string property. */
    public Schema string(String name, String description) {
        return with(name, description, "\"type\":\"string\"");
    }

    /** Adds a string property that takes one of {@code values}. */
    public Schema choice(String name, String description, String... values) {
        Require.that(values.length > 0, "a choice needs at least one value");
        StringBuilder type = new StringBuilder("\"type\":\"string\",\"enum\":[");
        for (int i = 0; i < values.length; i++) {
            type.append(i == 0 ? "" : ",").append(JsonText.quote(Require.notNull(values[i], "value")));
        }
        return with(name, description, type.append(']').toString());
    }

    /** Adds an integer property, read with {@link ToolArguments#integer}. */
    public Schema integer(String name, String description) {
        return with(name, description, "\"type\":\"integer\"");
    }

    /** Adds a number property, read with {@link ToolArguments#number}. */
    public Schema number(String name, String description) {
        return with(name, description, "\"type\":\"number\"");
    }

    /** Adds a boolean property, read with {@link ToolArguments#bool}. */
    public Schema bool(String name, String description) {
        return with(name, description, "\"type\":\"boolean\"");
    }

    /** Marks properties as required (in addition to those already marked). */
    public Schema required(String... requiredNames) {
        Set<String> all = new LinkedHashSet<>(required);
        for (String name : requiredNames) {
            Require.that(names.contains(name), "required \"" + name + "\" is not a property of the schema");
            all.add(name);
        }
        return new Schema(properties, names, List.copyOf(all));
    }

    /** The schema as JSON text. */
    public String toJson() {
        StringBuilder json = new StringBuilder("{\"type\":\"object\",\"properties\":{");
        for (int i = 0; i < properties.size(); i++) {
            json.append(i == 0 ? "" : ",").append(properties.get(i));
        }
        json.append('}');
        if (!required.isEmpty()) {
            json.append(",\"required\":[");
            for (int i = 0; i < required.size(); i++) {
                json.append(i == 0 ? "" : ",").append(JsonText.quote(required.get(i)));
            }
            json.append(']');
        }
        return json.append(",\"additionalProperties\":false}").toString();
    }

    /** Same as {@link #toJson()}. */
    @Override
    public String toString() {
        return toJson();
    }

    private Schema with(String name, String description, String type) {
        Require.notBlank(name, "name");
        Require.that(!names.contains(name), "property \"" + name + "\" is already in the schema");
        StringBuilder property = new StringBuilder(JsonText.quote(name)).append(":{").append(type);
        if (description != null && !description.isBlank()) {
            property.append(",\"description\":").append(JsonText.quote(description));
        }
        return new Schema(plus(properties, property.append('}').toString()), plus(names, name), required);
    }

    private static List<String> plus(List<String> list, String item) {
        List<String> longer = new ArrayList<>(list);
        longer.add(item);
        return List.copyOf(longer);
    }
}
