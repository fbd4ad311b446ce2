package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.port.out.ThreadStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Threads of an {@link InMemoryChatStore}. */
final class InMemoryThreadStore implements ThreadStore {
    private static final String CURSOR_KIND = "thr";
    /** Most recently updated first, ties by id descending. */
    private static final Comparator<ChatThread> ORDER = Comparator.comparing(ChatThread::updatedAt)
            .thenComparing(ChatThread::id).reversed();

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
            db.put(db.threads, thread.id(), thread);
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
            db.put(db.threads, stored.id(), new ChatThread(stored.id(), stored.ownerId(), stored.agentId(), thread.title(),
                    thread.metadata(), stored.createdAt(), thread.updatedAt(), null));
            return true;
        });
    }

    @Override
    public Page<ChatThread> list(String ownerId, String agentId, PageRequest page) {
        ChatThread after = page.cursor() == null ? null : decode(page.cursor());
        List<ChatThread> matching = db.locked(() -> {
            List<ChatThread> found = new ArrayList<>();
            for (ChatThread t : db.threads.values()) {
                if (!t.isDeleted() && t.ownerId().equals(ownerId) && (agentId == null || t.agentId().equals(agentId))
                        && (after == null || ORDER.compare(t, after) > 0)) {
                    found.add(t);
                }
            }
            return found;
        });
        matching.sort(ORDER);
        return Pages.of(matching, page.limit(), last -> Cursors.encode(CURSOR_KIND, Cursors.instant(last.updatedAt()),
                last.id().value()));
    }

    /** A stand-in thread carrying the cursor's sort key. */
    private static ChatThread decode(String cursor) {
        String[] f = Cursors.decode(cursor, CURSOR_KIND, 2);
        Instant updatedAt = Cursors.parseInstant(f[0]);
        ThreadId id = Cursors.parseId(ThreadId.parse(f[1]));
        return new ChatThread(id, "cursor", "cursor", null, Map.of(), updatedAt, updatedAt, null);
    }

    @Override
    public boolean softDelete(ThreadId id, Instant now) {
        return db.locked(() -> {
            ChatThread stored = db.threads.get(id);
            if (stored == null || stored.isDeleted()) {
                return false;
            }
            db.put(db.threads, id, stored.deleted(now));
            return true;
        });
    }

    @Override
    public boolean hardDelete(ThreadId id) {
        return db.inTransaction(() -> {
            if (db.remove(db.threads, id) == null) {
                return false;
            }
            List<Message> messages = db.remove(db.messagesByThread, id);
            if (messages != null) {
                for (Message m : messages) {
                    db.remove(db.messagesById, m.id());
                }
            }
            List<RunId> runIds = db.remove(db.runsByThread, id);
            if (runIds != null) {
                for (RunId runId : runIds) {
                    db.remove(db.runs, runId);
                    db.dropEvents(runId);
                    List<Step> steps = db.remove(db.stepsByRun, runId);
                    if (steps != null) {
                        for (Step s : steps) {
                            db.remove(db.steps, s.id());
                        }
                    }
                }
            }
            List<InMemoryChatStore.IdempotencyKey> keys = new ArrayList<>();
            for (Map.Entry<InMemoryChatStore.IdempotencyKey, IdempotencyRecord> e : db.idempotency.entrySet()) {
                if (e.getValue().threadId().equals(id)) {
                    keys.add(e.getKey());
                }
            }
            for (InMemoryChatStore.IdempotencyKey k : keys) {
                db.remove(db.idempotency, k);
            }
            return true;
        });
    }
}
