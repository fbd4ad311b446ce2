package dev.parley.chat.model;

/**
 * A model's request to call a tool. {@code arguments} is the JSON text the model produced (an
 * object when the model behaves; kept verbatim either way).
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Require.notBlank(id, "id");
        Require.notBlank(name, "name");
        arguments = arguments == null || arguments.isBlank() ? "{}" : arguments;
    }
}
