package dev.parley.chat.model;

import java.util.List;

/**
 * The request breaks a rule of the domain. {@link #reason()} says which kind of rule, and
 * {@link #code()} is the reason's stable wire code; {@link #errors()} names the fields at fault.
 */
public class InvalidRequestException extends ChatException {
    private static final long serialVersionUID = 1L;

    /** What was wrong with a request; each constant's {@link #wireName()} is its wire code. */
    public enum Reason implements WireEnum {
        /** {@code validation_failed}: a field of the request is invalid ({@link #errors()} names them). */
        VALIDATION_FAILED,
        /** {@code invalid_parameter}: a bad query parameter or cursor. */
        INVALID_PARAMETER,
        /** {@code idempotency_key_reused}: the same idempotency key came with a different request. */
        IDEMPOTENCY_KEY_REUSED,
        /** {@code not_editable}: an edit of a message that is not a user message, or a regenerate of one that is no answer. */
        NOT_EDITABLE
    }

    private final Reason reason;
    private final transient List<FieldError> errors;

    public InvalidRequestException(Reason reason, String message, List<FieldError> errors) {
        super(Require.notNull(reason, "reason").wireName(), message);
        this.reason = reason;
        this.errors = List.copyOf(errors);
    }

    public static InvalidRequestException field(String field, String message) {
        return new InvalidRequestException(Reason.VALIDATION_FAILED, field + ": " + message,
                List.of(new FieldError(field, message)));
    }

    public static InvalidRequestException parameter(String name, String message) {
        return new InvalidRequestException(Reason.INVALID_PARAMETER, name + ": " + message,
                List.of(new FieldError(name, message)));
    }

    /** What kind of rule the request broke; its wire code is {@link #code()}. */
    public Reason reason() {
        return reason;
    }

    /** Field-level details; empty when the error is not about particular fields. */
    public List<FieldError> errors() {
        return errors;
    }
}
