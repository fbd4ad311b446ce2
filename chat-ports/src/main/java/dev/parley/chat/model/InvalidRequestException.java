package dev.parley.chat.model;

import java.util.List;

/**
 * The request breaks a rule of the domain. Codes: {@code validation_failed} (with
 * {@link #errors()} naming the fields), {@code invalid_parameter} (a bad query parameter or
 * cursor), {@code idempotency_key_reused} (same key, different request).
 */
public class InvalidRequestException extends ChatException {
    private static final long serialVersionUID = 1L;
    private final transient List<FieldError> errors;

    public InvalidRequestException(String code, String message, List<FieldError> errors) {
        super(code, message);
        this.errors = List.copyOf(errors);
    }

    public static InvalidRequestException field(String field, String message) {
        return new InvalidRequestException("validation_failed", field + ": " + message, List.of(new FieldError(field, message)));
    }

    public static InvalidRequestException parameter(String name, String message) {
        return new InvalidRequestException("invalid_parameter", name + ": " + message, List.of(new FieldError(name, message)));
    }

    /** Field-level details; empty when the error is not about particular fields. */
    public List<FieldError> errors() {
        return errors;
    }
}
