package dev.parley.chat.model;

/**
 * A tool could not do what it was asked. Its message is meant for the model (and the user): it is
 * recorded on the step and fed back to the model, so it must not leak internals. Codes:
 * {@code tool_error}, {@code tool_timeout}, {@code tool_not_found}.
 */
public class ToolException extends ChatException {
    private static final long serialVersionUID = 1L;

    public ToolException(String message) {
        super("tool_error", message);
    }

    public ToolException(String code, String message) {
        super(code, message);
    }
}
