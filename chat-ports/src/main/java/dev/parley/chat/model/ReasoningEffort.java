package dev.parley.chat.model;

/** How much a reasoning model thinks before it answers. */
public enum ReasoningEffort implements WireEnum {
    LOW, MEDIUM, HIGH
}
