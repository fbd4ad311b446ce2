package dev.parley.chat.port.out;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ThreadId;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Threads. Soft-deleted threads (the trash) are invisible to every method but {@link #hardDelete}
 * and the trash's own ({@link #findDeleted}, {@link #listDeleted}, {@link #restore}, {@link #purge}).
 * A thread read back carries the usage totals of its ended runs (see {@link RunStore#update}).
 */
public interface ThreadStore {

    /** Stores a new thread; a thread with the same id is a ConflictException ({@code duplicate}). */
    void insert(ChatThread thread);

    /** The live (not soft-deleted) thread, or empty. */
    Optional<ChatThread> find(ThreadId id);

    /**
     * Like {@link #find} and, inside {@link ChatStore#inTransaction}, locks the thread until the
     * transaction ends, so that concurrent senders on one thread (on any server) take turns.
     */
    Optional<ChatThread> lock(ThreadId id);

    /** Replaces title, metadata and updatedAt of a live thread; false when there is none. */
    boolean update(ChatThread thread);

    /**
     * The owner's live threads, most recently updated first (ties by id, descending), optionally
     * only those of {@code agentId} (null for all). Keyset paging: cost does not grow with depth.
     */
    Page<ChatThread> list(String ownerId, String agentId, PageRequest page);

    /** Hides a live thread from every read; its rows are kept. False when there is no live thread. */
    boolean softDelete(ThreadId id, Instant now);

    /**
     * Removes the thread (live or soft-deleted) with all its messages, runs, steps, run events and
     * idempotency keys, in one transaction. False when there was nothing to remove.
     */
    boolean hardDelete(ThreadId id);

    /** The soft-deleted thread, or empty when it is live, missing or removed. */
    Optional<ChatThread> findDeleted(ThreadId id);

    /**
     * The owner's soft-deleted threads, most recently deleted first (ties by id, descending). Keyset
     * paging: cost does not grow with depth.
     */
    Page<ChatThread> listDeleted(String ownerId, PageRequest page);

    /** Makes a soft-deleted thread live again (its {@code deletedAt} cleared); false when it is not soft-deleted. */
    boolean restore(ThreadId id);

    /** Up to {@code max} threads soft-deleted at or before {@code deletedBefore}, earliest deletion first. */
    List<ThreadId> deletedBefore(Instant deletedBefore, int max);

    /**
     * {@link #hardDelete} of a thread that is still soft-deleted at or before {@code deletedBefore},
     * decided under the thread's lock (a thread restored meanwhile stays); false when it is not.
     */
    boolean purge(ThreadId id, Instant deletedBefore);
}
