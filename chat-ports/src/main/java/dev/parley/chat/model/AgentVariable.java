package dev.parley.chat.model;

/**
 * A variable an agent's instructions declare: {@code {{name}}} in the instructions is replaced by
 * the chat request's value of that name, else the thread's metadata entry, else
 * {@code defaultValue}; a {@code required} variable with none of these refuses the chat.
 * {@code defaultValue} may be null. Checked as part of an {@link AgentDefinition}.
 */
public record AgentVariable(String name, String description, boolean required, String defaultValue) {
    public AgentVariable {
        description = description == null ? "" : description;
    }
}
