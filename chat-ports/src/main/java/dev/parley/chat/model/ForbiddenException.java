package dev.parley.chat.model;

/**
 * The caller may see the thing but not do this to it. {@link #reason()} says why, and
 * {@link #code()} is the reason's stable wire code.
 */
public class ForbiddenException extends ChatException {
    private static final long serialVersionUID = 1L;

    /** Why a change was refused; each constant's {@link #wireName()} is its wire code. */
    public enum Reason implements WireEnum {
        /** {@code forbidden}: a role is missing, e.g. {@code admin} to change a shared agent. */
        FORBIDDEN,
        /** {@code agent_read_only}: the agent is built in and cannot be changed. */
        AGENT_READ_ONLY
    }

    private final Reason reason;

    public ForbiddenException(Reason reason, String message) {
        super(Require.notNull(reason, "reason").wireName(), message);
        this.reason = reason;
    }

    /** Why the change was refused; its wire code is {@link #code()}. */
    public Reason reason() {
        return reason;
    }
}
