package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ThreadStore;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Threads of an {@link InMemoryChatStore}. */
final class InMemoryThreadStore implements ThreadStore {
    private static final String CURSOR_KIND = "thr";

    private final InMemoryChatStore db;

    InMemoryThreadStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public void insert(ChatThread thread) {
        db.locked(() -> {
            if (db.threads.containsKey(thread.id())) {
                throw InMemoryChatStore.duplicate("thread " + thread.id());
            }
            db.putThread(thread);
        });
    }

    @Override
    public Optional<ChatThread> find(ThreadId id) {
        return db.locked(() -> Optional.ofNullable(db.threads.get(id)).filter(t -> !t.isDeleted()));
    }

    @Override
    public Optional<ChatThread> lock(ThreadId id) {
        // inside a transaction the store-wide lock is already held until it ends
        return find(id);
    }

    @Override
    public boolean update(ChatThread thread) {
        return db.locked(() -> {
            ChatThread stored = db.threads.get(thread.id());
            if (stored == null || stored.isDeleted()) {
                return false;
            }
            db.putThread(new ChatThread(stored.id(), stored.ownerId(), stored.agentId(), thread.title(),
                    thread.metadata(), stored.createdAt(), thread.updatedAt(), null, stored.agentVersion(), stored.usage()));
            return true;
        });
    }

    /** Costs the page, not the user's threads: live threads are indexed by owner and by owner and agent. */
    @Override
    public Page<ChatThread> list(String ownerId, String agentId, PageRequest page) {
        ThreadListing.Key after = page.cursor() == null ? null : decode(page.cursor());
        // one more than the page, so that Pages can tell whether another page follows
        List<ChatThread> matching = db.locked(() -> db.listing.page(ownerId, agentId, after, page.limit() + 1));
        return Pages.of(matching, page.limit(), last -> Cursors.encode(CURSOR_KIND, Cursors.instant(last.updatedAt()),
                last.id().value()));
    }

    /** The sort key the cursor carries. */
    private static ThreadListing.Key decode(String cursor) {
        String[] f = Cursors.decode(cursor, CURSOR_KIND, 2);
        Instant updatedAt = Cursors.parseInstant(f[0]);
        ThreadId id = Cursors.parseId(ThreadId.parse(f[1]));
        return new ThreadListing.Key(updatedAt, id);
    }

    @Override
    public boolean softDelete(ThreadId id, Instant now) {
        return db.locked(() -> {
            ChatThread stored = db.threads.get(id);
            if (stored == null || stored.isDeleted()) {
                return false;
            }
            db.putThread(stored.deleted(now));
            return true;
        });
    }

    @Override
    public Optional<ChatThread> findDeleted(ThreadId id) {
        return db.locked(() -> Optional.ofNullable(db.threads.get(id)).filter(ChatThread::isDeleted));
    }

    /** The reference: scans the store's threads (the relational stores read an index). */
    @Override
    public Page<ChatThread> listDeleted(String ownerId, PageRequest page) {
        ChatThread after = page.cursor() == null ? null : decodeDeleted(page.cursor());
        List<ChatThread> matching = db.locked(() -> db.threads.values().stream()
                .filter(t -> t.isDeleted() && t.isOwnedBy(ownerId))
                .filter(t -> after == null || DELETION_ORDER.compare(t, after) > 0)
                .sorted(DELETION_ORDER)
                .limit(page.limit() + 1L)
                .toList());
        return Pages.of(matching, page.limit(), last -> Cursors.encode(DELETED_CURSOR_KIND, Cursors.instant(last.deletedAt()),
                last.id().value()));
    }

    /** Most recently deleted first, ties by id descending. */
    private static final Comparator<ChatThread> DELETION_ORDER = Comparator.comparing(ChatThread::deletedAt)
            .thenComparing(ChatThread::id).reversed();
    private static final String DELETED_CURSOR_KIND = "thd";

    private static ChatThread decodeDeleted(String cursor) {
        String[] f = Cursors.decode(cursor, DELETED_CURSOR_KIND, 2);
        Instant deletedAt = Cursors.parseInstant(f[0]);
        ThreadId id = Cursors.parseId(ThreadId.parse(f[1]));
        return new ChatThread(id, "cursor", "cursor", null, Map.of(), deletedAt, deletedAt, deletedAt);
    }

    @Override
    public boolean restore(ThreadId id) {
        return db.locked(() -> {
            ChatThread stored = db.threads.get(id);
            if (stored == null || !stored.isDeleted()) {
                return false;
            }
            db.putThread(stored.restored());
            return true;
        });
    }

    @Override
    public List<ThreadId> deletedBefore(Instant deletedBefore, int max) {
        return db.locked(() -> db.threads.values().stream()
                .filter(t -> t.isDeleted() && !t.deletedAt().isAfter(deletedBefore))
                .sorted(Comparator.comparing(ChatThread::deletedAt).thenComparing(ChatThread::id))
                .limit(max)
                .map(ChatThread::id)
                .toList());
    }

    @Override
    public boolean purge(ThreadId id, Instant deletedBefore) {
        return db.inTransaction(() -> {
            ChatThread stored = db.threads.get(id);
            return stored != null && stored.isDeleted() && !stored.deletedAt().isAfter(deletedBefore) && hardDelete(id);
        });
    }

    @Override
    public boolean hardDelete(ThreadId id) {
        return db.inTransaction(() -> {
            ChatThread removed = db.remove(db.threads, id);
            if (removed == null) {
                return false;
            }
            db.unlistThread(removed);
            db.remove(db.activeRunsByThread, id);
            db.remove(db.activeLeaves, id);
            List<Message> messages = db.remove(db.messagesByThread, id);
            if (messages != null) {
                for (Message m : messages) {
                    db.remove(db.messagesById, m.id());
                    db.remove(db.families, InMemoryChatStore.Family.of(m));
                }
            }
            List<RunId> runIds = db.remove(db.runsByThread, id);
            if (runIds != null) {
                runIds.forEach(db::dropRun);
            }
            db.dropIdempotency(r -> r.threadId().equals(id));
            return true;
        });
    }
}
