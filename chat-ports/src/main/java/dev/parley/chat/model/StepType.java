package dev.parley.chat.model;

/** What a step of a run did. */
public enum StepType implements WireEnum { MESSAGE_CREATION, TOOL_CALL }
