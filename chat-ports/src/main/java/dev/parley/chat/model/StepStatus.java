package dev.parley.chat.model;

/** {@code in_progress -> completed | failed | cancelled}. */
public enum StepStatus implements WireEnum {
    IN_PROGRESS, COMPLETED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this != IN_PROGRESS;
    }
}
