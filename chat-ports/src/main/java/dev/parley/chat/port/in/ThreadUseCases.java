package dev.parley.chat.port.in;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;

/**
 * Threads and their messages, as a driving adapter asks for them. Every call names the acting
 * user; another user's thread behaves exactly like a missing one. Thread-safe.
 */
public interface ThreadUseCases {
    ChatThread createThread(CreateThreadCommand command);

    /** The user's threads, most recently updated first; {@code agentId} null for all agents. */
    Page<ChatThread> listThreads(String userId, String agentId, PageRequest page);

    ChatThread getThread(String userId, ThreadId threadId);

    ChatThread updateThread(UpdateThreadCommand command);

    /**
     * Soft delete (rows kept, hidden everywhere: the trash) or, with {@code hard}, removal of
     * everything, of a live thread or of one in the trash.
     */
    void deleteThread(String userId, ThreadId threadId, boolean hard);

    /** The user's soft-deleted threads, most recently deleted first. */
    Page<ChatThread> listDeletedThreads(String userId, PageRequest page);

    /** Takes the user's thread out of the trash; {@code thread_not_found} when it is not there. */
    ChatThread restoreThread(String userId, ThreadId threadId);

    /** The thread's history (its active path) by position, oldest first for {@code ASC}. */
    Page<Message> listMessages(String userId, ThreadId threadId, PageRequest page, SortOrder order);
}
