package dev.parley.chat.core;

/** The run ends with a failure of this code; its message is safe to show. */
final class RunFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final String code;

    RunFailure(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }
}
