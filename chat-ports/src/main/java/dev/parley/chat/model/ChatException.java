package dev.parley.chat.model;

/**
 * Root of every exception that crosses a Parley port. Each carries a stable, machine-readable
 * {@link #code()} (for example {@code thread_not_found}); transports map the subclass to their own
 * status codes. Messages never contain SQL, stack traces or class names of adapters.
 */
public class ChatException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String code;

    public ChatException(String code, String message) {
        this(code, message, null);
    }

    public ChatException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = Require.notBlank(code, "code");
    }

    /** The stable machine-readable error code. */
    public String code() {
        return code;
    }
}
