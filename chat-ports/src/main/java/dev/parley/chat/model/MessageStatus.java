package dev.parley.chat.model;

/**
 * {@code incomplete} marks an assistant message cut short: by a cancel or a failure (its partial text
 * is kept), or by the model stopping at the run's output token limit (the run completes; see
 * {@link FinishReason#LENGTH}).
 */
public enum MessageStatus implements WireEnum { COMPLETED, INCOMPLETE }
