package dev.parley.chat.model;

/**
 * {@code in_progress -> completed | failed | cancelled}. A tool call that needs approval starts
 * {@code awaiting_approval}; approved it goes {@code in_progress}, denied it ends {@code denied}.
 */
public enum StepStatus implements WireEnum {
    IN_PROGRESS, AWAITING_APPROVAL, COMPLETED, FAILED, CANCELLED, DENIED;

    public boolean isTerminal() {
        return this != IN_PROGRESS && this != AWAITING_APPROVAL;
    }
}
