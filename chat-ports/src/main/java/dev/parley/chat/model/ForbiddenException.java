package dev.parley.chat.model;

/**
 * The caller may see the thing but not do this to it. Codes: {@code forbidden} (a role is
 * missing, e.g. {@code admin} to change a shared agent), {@code agent_read_only} (a built-in agent).
 */
public class ForbiddenException extends ChatException {
    private static final long serialVersionUID = 1L;

    public ForbiddenException(String code, String message) {
        super(code, message);
    }
}
