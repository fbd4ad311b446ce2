package dev.parley.chat.model;

/** One invalid field of a request: its name as the client sent it and what is wrong with it. */
public record FieldError(String field, String message) {
    public FieldError {
        Require.notBlank(field, "field");
        Require.notBlank(message, "message");
    }
}
