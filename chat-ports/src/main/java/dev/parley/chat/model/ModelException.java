package dev.parley.chat.model;

import java.time.Duration;
import java.util.Optional;

/**
 * The model call failed. Codes: {@code model_error} (generic), {@code model_auth},
 * {@code model_not_found}, {@code model_rate_limited}, {@code model_upstream},
 * {@code model_timeout}, {@code model_bad_response}, {@code model_connection_lost}.
 * {@link #retryAfter()} is set when the server said when to try again.
 */
public class ModelException extends ChatException {
    private static final long serialVersionUID = 1L;
    private final transient Duration retryAfter;

    public ModelException(String code, String message) {
        this(code, message, null, null);
    }

    public ModelException(String code, String message, Duration retryAfter, Throwable cause) {
        super(code, message, cause);
        this.retryAfter = retryAfter;
    }

    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
