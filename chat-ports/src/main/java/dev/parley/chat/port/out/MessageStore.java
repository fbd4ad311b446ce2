package dev.parley.chat.port.out;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import java.util.List;
import java.util.Optional;

/**
 * Messages of threads, in a stable per-thread order. Appending costs the same however long the
 * thread is: earlier messages are never rewritten.
 */
public interface MessageStore {

    /**
     * Appends {@code message} to its thread and returns it with its {@code position} (the thread's
     * next number: 1, 2, 3, ...). The position given on the argument is ignored. The thread's
     * {@code updatedAt} moves on to the message's {@code createdAt} (never back), as every new
     * message makes its thread the most recently updated; a missing thread is a NotFoundException.
     */
    Message append(Message message);

    Optional<Message> find(MessageId id);

    /** A keyset page of a thread's messages by position, oldest first ({@code ASC}) or newest first. */
    Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order);

    /** The last {@code max} messages of the thread, oldest first. */
    List<Message> latest(ThreadId threadId, int max);

    /** How many messages the thread has. */
    long count(ThreadId threadId);
}
