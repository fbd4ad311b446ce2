package dev.parley.chat.model;

/** Why a run failed: a stable code and a sanitized message safe to show a user. */
public record RunError(String code, String message) {
    public RunError {
        Require.notBlank(code, "code");
        Require.notNull(message, "message");
    }
}
