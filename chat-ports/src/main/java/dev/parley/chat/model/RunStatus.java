package dev.parley.chat.model;

/** {@code queued -> in_progress -> completed | failed | cancelled}; the last three are terminal. */
public enum RunStatus implements WireEnum {
    QUEUED, IN_PROGRESS, COMPLETED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /** Queued or in progress. */
    public boolean isActive() {
        return !isTerminal();
    }
}
