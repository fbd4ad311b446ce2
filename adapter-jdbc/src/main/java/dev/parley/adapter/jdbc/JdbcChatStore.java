package dev.parley.adapter.jdbc;

import dev.parley.chat.port.out.ChatStore;

/**
 * A {@link ChatStore} on a relational database, made by {@link JdbcChatStores}. Thread-safe.
 * Closing it closes the connection pool it created; a pool supplied by the caller stays open.
 */
public interface JdbcChatStore extends ChatStore, AutoCloseable {

    /** The database it runs on: {@code postgresql} or {@code h2}. */
    String database();

    @Override
    void close();
}
