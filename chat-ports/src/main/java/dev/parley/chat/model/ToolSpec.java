package dev.parley.chat.model;

import java.util.regex.Pattern;

/** What a model is told about a tool: its name, what it does, and its parameters as a JSON Schema text. */
public record ToolSpec(String name, String description, String parametersSchema) {
    /** What a tool name may be (compiled once: every model request lists its tools). */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public ToolSpec {
        Require.notBlank(name, "name");
        Require.that(NAME.matcher(name).matches(), "tool names are 1-64 of A-Z a-z 0-9 _ -");
        description = description == null ? "" : description;
        parametersSchema = parametersSchema == null || parametersSchema.isBlank()
                ? "{\"type\":\"object\",\"properties\":{}}" : parametersSchema;
    }
}
