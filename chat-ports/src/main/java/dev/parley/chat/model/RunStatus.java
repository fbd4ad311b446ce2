package dev.parley.chat.model;

/**
 * {@code queued -> in_progress -> completed | failed | cancelled}; the last three are terminal. A run
 * in progress that calls a tool needing a person's approval waits in {@code requires_action} until
 * every such call is decided, then goes on {@code in_progress} (or is cancelled or times out).
 */
public enum RunStatus implements WireEnum {
    QUEUED, IN_PROGRESS, REQUIRES_ACTION, COMPLETED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /** Queued, in progress or requiring action. */
    public boolean isActive() {
        return !isTerminal();
    }

    /**
     * In progress or requiring action: the run holds its thread (at most one such run per thread),
     * and a queued run of the thread waits behind it.
     */
    public boolean holdsThread() {
        return this == IN_PROGRESS || this == REQUIRES_ACTION;
    }
}
