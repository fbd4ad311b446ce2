package dev.parley.chat.model;

/** {@code incomplete} marks an assistant message cut short by a cancel or a failure; its partial text is kept. */
public enum MessageStatus implements WireEnum { COMPLETED, INCOMPLETE }
