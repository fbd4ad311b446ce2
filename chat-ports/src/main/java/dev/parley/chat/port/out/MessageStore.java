package dev.parley.chat.port.out;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Messages of threads. A thread's messages form a tree (each message names its parent) and the
 * thread has an <em>active leaf</em>: the path from the first message to it is the thread's
 * history, the <em>active path</em>. {@link #page} and {@link #latest} read the active path;
 * {@link #find}, {@link #versions} and the tree's other methods reach every branch.
 *
 * <p>Costs: an append, a {@link #latest} window and every {@link #page} read cost the same however
 * many messages and branches the thread holds; earlier messages are never rewritten. Reads fill in
 * each message's {@link Message.Versions}, except the window ({@link #latest}).
 */
public interface MessageStore {

    /**
     * Appends {@code message} to its thread as a child of the thread's active leaf (a first message
     * when the thread has none), makes it the active leaf, and returns it with its parent and its
     * {@code position} (its depth: 1 for a first message). The parent and position given on the
     * argument are ignored. The thread's {@code updatedAt} moves on to the message's
     * {@code createdAt} (never back), as every new message makes its thread the most recently
     * updated; a missing thread is a NotFoundException.
     */
    Message append(Message message);

    /**
     * Appends {@code message} as a child of {@code parentId} (null: as another first message of the
     * thread), on a branch of its own when the parent already has a child, and makes it the active
     * leaf. Otherwise as {@link #append}. A parent that is not a message of the thread is a
     * NotFoundException.
     */
    Message appendTo(Message message, MessageId parentId);

    /**
     * As {@link #appendTo}, but the active leaf stays where it is: the message waits off the active
     * path (a queued edit, until its run starts and makes its branch active). The thread's
     * {@code updatedAt} and message count move on as for any append.
     */
    Message appendAside(Message message, MessageId parentId);

    /** The message, on any branch of its thread; empty when missing or its thread is soft-deleted. */
    Optional<Message> find(MessageId id);

    /** A keyset page of the thread's active path by position, oldest first ({@code ASC}) or newest first. */
    Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order);

    /**
     * The last {@code max} messages of the thread's active path, oldest first: the history window a
     * run shows its model, which has no use for versions (each is {@link Message.Versions#ONLY}).
     */
    List<Message> latest(ThreadId threadId, int max);

    /** How many messages the thread has, on all branches. */
    long count(ThreadId threadId);

    /** The thread's active leaf; empty when its active path is empty. */
    Optional<MessageId> activeLeaf(ThreadId threadId);

    /**
     * Makes {@code leafId} the thread's active leaf as it is (null: an empty active path, so that the
     * next append starts a new first message). A message of another thread is a NotFoundException.
     */
    void moveLeaf(ThreadId threadId, MessageId leafId);

    /**
     * Makes the branch through {@code messageId} active: below it, the most recently created child
     * at each level, down to a message without children, becomes the active leaf, which is returned.
     */
    MessageId activate(MessageId messageId);

    /**
     * A keyset page of the message's versions: itself and its siblings of the same role (same
     * parent, or first messages of the same thread), oldest first. A missing message is a
     * NotFoundException.
     */
    Page<Message> versions(MessageId messageId, PageRequest page);

    /** Replaces the message's metadata (content never changes) and returns it; missing: NotFoundException. */
    Message updateMetadata(MessageId messageId, Map<String, String> metadata);

    /**
     * Removes the message and every message below it on every branch. When the active path ran
     * through it, its parent becomes the active leaf. Returns how many messages were removed (0 when
     * it was missing).
     */
    int delete(MessageId messageId);
}
