package dev.parley.chat.model;

/** Direction of a history page: {@code asc} is oldest first. */
public enum SortOrder implements WireEnum { ASC, DESC }
