package dev.parley.chat.model;

/** What happens to a run when a streaming subscriber goes away before it ends. */
public enum DisconnectPolicy implements WireEnum { CONTINUE, CANCEL }
