package dev.parley.chat.model;

/** Who sees a stored agent: its creator only ({@code private}) or everyone ({@code shared}). */
public enum AgentVisibility implements WireEnum {
    PRIVATE, SHARED
}
