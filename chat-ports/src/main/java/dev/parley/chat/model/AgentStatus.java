package dev.parley.chat.model;

/** An agent is {@code active}, or {@code archived}: no new threads, its existing threads keep working. */
public enum AgentStatus implements WireEnum {
    ACTIVE, ARCHIVED
}
