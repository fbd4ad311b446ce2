package dev.parley.chat.model;

/** A person's answer to a tool call that needs approval: {@code approve} or {@code deny}. */
public enum ApprovalDecision implements WireEnum {
    APPROVE, DENY
}
