package dev.parley.adapter.inmemory;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventStore;

/**
 * Entry point of the in-memory adapters: the reference {@link ChatStore} (for tests, demos and
 * single-process use; nothing survives the JVM) and a stand-alone {@link RunEventStore}. The
 * scripted model is {@link ScriptedChatModel}. Every object returned is thread-safe.
 */
public final class InMemoryAdapters {
    private InMemoryAdapters() {}

    /** A new, empty store with serializable transactions that really roll back. */
    public static ChatStore store() {
        return new InMemoryChatStore();
    }

    /** A new, empty run event log of its own, without a {@link ChatStore} around it. */
    public static RunEventStore runEventStore() {
        return new InMemoryChatStore().events();
    }
}
