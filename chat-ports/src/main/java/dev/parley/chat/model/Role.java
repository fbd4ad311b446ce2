package dev.parley.chat.model;

/** Who wrote a message. */
public enum Role implements WireEnum { USER, ASSISTANT, SYSTEM, TOOL }
