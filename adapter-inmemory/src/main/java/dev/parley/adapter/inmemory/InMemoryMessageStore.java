package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.MessageStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Messages of an {@link InMemoryChatStore}: one list per thread in creation order, each message
 * naming its parent. The reference: it walks the tree for every read rather than keeping the cost
 * promises of the port.
 */
final class InMemoryMessageStore implements MessageStore {
    private final InMemoryChatStore db;

    InMemoryMessageStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public Message append(Message message) {
        return db.locked(() -> insert(message, db.activeLeaves.get(message.threadId())));
    }

    @Override
    public Message appendTo(Message message, MessageId parentId) {
        return appendBelow(message, parentId, true);
    }

    @Override
    public Message appendAside(Message message, MessageId parentId) {
        return appendBelow(message, parentId, false);
    }

    private Message appendBelow(Message message, MessageId parentId, boolean becomesLeaf) {
        return db.locked(() -> {
            if (parentId != null) {
                Message parent = db.messagesById.get(parentId);
                if (parent == null || !parent.threadId().equals(message.threadId())) {
                    throw NotFoundException.message(parentId);
                }
            }
            return insert(message, parentId, becomesLeaf);
        });
    }

    private Message insert(Message message, MessageId parentId) {
        return insert(message, parentId, true);
    }

    private Message insert(Message message, MessageId parentId, boolean becomesLeaf) {
        ChatThread thread = db.threads.get(message.threadId());
        if (thread == null) {
            throw NotFoundException.thread(message.threadId());
        }
        if (db.messagesById.containsKey(message.id())) {
            throw InMemoryChatStore.duplicate("message " + message.id());
        }
        long position = parentId == null ? 1 : db.messagesById.get(parentId).position() + 1;
        Message stored = message.withParent(parentId).atPosition(position).withVersions(Message.Versions.ONLY);
        db.add(db.listFor(db.messagesByThread, message.threadId()), stored);
        db.add(db.listFor(db.families, InMemoryChatStore.Family.of(stored), 1), stored);
        db.put(db.messagesById, stored.id(), stored);
        if (becomesLeaf) {
            db.put(db.activeLeaves, stored.threadId(), stored.id());
        }
        if (stored.createdAt().isAfter(thread.updatedAt())) {
            db.putThread(thread.touched(stored.createdAt()));
        }
        return withVersions(stored);
    }

    @Override
    public Optional<Message> find(MessageId id) {
        return db.locked(() -> Optional.ofNullable(db.messagesById.get(id)).filter(m -> db.isLive(m.threadId()))
                .map(this::withVersions));
    }

    @Override
    public Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order) {
        String kind = order == SortOrder.ASC ? "msga" : "msgd";
        long after = page.cursor() == null ? -1 : Cursors.parseLong(Cursors.decode(page.cursor(), kind, 1)[0]);
        if (page.cursor() != null && after < 1) {
            throw Cursors.invalid();
        }
        List<Message> slice = db.locked(() -> {
            List<Message> all = activePath(threadId);
            List<Message> out = new ArrayList<>(Math.min(all.size(), page.limit() + 1));
            if (order == SortOrder.ASC) {
                int from = after < 0 ? 0 : (int) Math.min(after, all.size());
                for (int i = from; i < all.size() && out.size() <= page.limit(); i++) {
                    out.add(withVersions(all.get(i)));
                }
            } else {
                int from = after < 0 ? all.size() - 1 : (int) Math.min(after - 2, all.size() - 1L);
                for (int i = from; i >= 0 && out.size() <= page.limit(); i--) {
                    out.add(withVersions(all.get(i)));
                }
            }
            return out;
        });
        return Pages.of(slice, page.limit(), last -> Cursors.encode(kind, Long.toString(last.position())));
    }

    @Override
    public List<Message> latest(ThreadId threadId, int max) {
        Require.that(max >= 0, "max must not be negative");
        return db.locked(() -> Collections.unmodifiableList(activePath(threadId, max)));
    }

    @Override
    public long count(ThreadId threadId) {
        return db.locked(() -> db.isLive(threadId) ? (long) db.messagesByThread.getOrDefault(threadId, List.of()).size() : 0L);
    }

    @Override
    public Optional<MessageId> activeLeaf(ThreadId threadId) {
        return db.locked(() -> db.isLive(threadId) ? Optional.ofNullable(db.activeLeaves.get(threadId)) : Optional.empty());
    }

    @Override
    public void moveLeaf(ThreadId threadId, MessageId leafId) {
        db.locked(() -> {
            if (!db.threads.containsKey(threadId)) {
                throw NotFoundException.thread(threadId);
            }
            if (leafId == null) {
                db.remove(db.activeLeaves, threadId);
                return;
            }
            Message leaf = db.messagesById.get(leafId);
            if (leaf == null || !leaf.threadId().equals(threadId)) {
                throw NotFoundException.message(leafId);
            }
            db.put(db.activeLeaves, threadId, leafId);
        });
    }

    @Override
    public MessageId activate(MessageId messageId) {
        return db.locked(() -> {
            Message current = live(messageId);
            while (true) {
                List<Message> children = db.families.get(new InMemoryChatStore.Family(current.threadId(), current.id()));
                if (children == null || children.isEmpty()) {
                    break;
                }
                current = children.get(children.size() - 1); // creation order: the last is the most recent
            }
            db.put(db.activeLeaves, current.threadId(), current.id());
            return current.id();
        });
    }

    @Override
    public Page<Message> versions(MessageId messageId, PageRequest page) {
        String kind = "msgv";
        long after = page.cursor() == null ? 0 : Cursors.parseLong(Cursors.decode(page.cursor(), kind, 1)[0]);
        if (page.cursor() != null && after < 1) {
            throw Cursors.invalid();
        }
        List<Message> slice = db.locked(() -> {
            List<Message> siblings = siblings(live(messageId));
            List<Message> out = new ArrayList<>();
            for (int i = (int) Math.min(after, siblings.size()); i < siblings.size() && out.size() <= page.limit(); i++) {
                out.add(siblings.get(i).withVersions(new Message.Versions(i + 1, siblings.size())));
            }
            return out;
        });
        return Pages.of(slice, page.limit(), last -> Cursors.encode(kind, Integer.toString(last.versions().index())));
    }

    @Override
    public Message updateMetadata(MessageId messageId, Map<String, String> metadata) {
        return db.locked(() -> {
            Message stored = live(messageId);
            Message updated = stored.withMetadata(metadata);
            List<Message> list = db.messagesByThread.get(stored.threadId());
            db.set(list, list.indexOf(stored), updated);
            List<Message> family = db.families.get(InMemoryChatStore.Family.of(stored));
            db.set(family, family.indexOf(stored), updated);
            db.put(db.messagesById, messageId, updated);
            return withVersions(updated);
        });
    }

    @Override
    public int delete(MessageId messageId) {
        return db.locked(() -> {
            Message root = db.messagesById.get(messageId);
            if (root == null) {
                return 0;
            }
            List<Message> list = db.messagesByThread.get(root.threadId());
            Set<MessageId> doomed = new HashSet<>();
            doomed.add(messageId);
            for (Message m : list) { // creation order: a parent comes before its children
                if (m.parentId() != null && doomed.contains(m.parentId())) {
                    doomed.add(m.id());
                }
            }
            MessageId leaf = db.activeLeaves.get(root.threadId());
            if (leaf != null && doomed.contains(leaf)) {
                if (root.parentId() == null) {
                    db.remove(db.activeLeaves, root.threadId());
                } else {
                    db.put(db.activeLeaves, root.threadId(), root.parentId());
                }
            }
            for (int i = list.size() - 1; i >= 0; i--) {
                Message m = list.get(i);
                if (doomed.contains(m.id())) {
                    db.remove(db.messagesById, m.id());
                    db.removeAt(list, i);
                    List<Message> family = db.families.get(InMemoryChatStore.Family.of(m));
                    db.removeAt(family, family.indexOf(m));
                }
            }
            removeRunsOf(root.threadId(), doomed);
            return doomed.size();
        });
    }

    /** Removes the runs that a removed user message started or a removed assistant message answered, with their rows. */
    private void removeRunsOf(ThreadId threadId, Set<MessageId> removed) {
        List<RunId> runIds = db.runsByThread.get(threadId);
        if (runIds == null) {
            return;
        }
        for (int i = runIds.size() - 1; i >= 0; i--) {
            RunId runId = runIds.get(i);
            Run run = db.runs.get(runId);
            if (run == null || !removed.contains(run.userMessageId())
                    && (run.assistantMessageId() == null || !removed.contains(run.assistantMessageId()))) {
                continue;
            }
            db.removeAt(runIds, i);
            db.dropRun(runId);
            db.dropIdempotency(r -> r.runId().equals(runId));
        }
    }

    private Message live(MessageId id) {
        Message m = db.messagesById.get(id);
        if (m == null || !db.isLive(m.threadId())) {
            throw NotFoundException.message(id);
        }
        return m;
    }

    /** The message and its siblings of the same role, oldest first. */
    private List<Message> siblings(Message message) {
        List<Message> out = new ArrayList<>();
        for (Message m : db.families.getOrDefault(InMemoryChatStore.Family.of(message), List.of())) {
            if (m.role() == message.role()) {
                out.add(m);
            }
        }
        return out;
    }

    private Message withVersions(Message message) {
        List<Message> siblings = siblings(message);
        int index = 0;
        while (!siblings.get(index).id().equals(message.id())) {
            index++;
        }
        return message.withVersions(new Message.Versions(index + 1, siblings.size()));
    }

    /** The messages from the first one to the active leaf. */
    private List<Message> activePath(ThreadId threadId) {
        return activePath(threadId, Integer.MAX_VALUE);
    }

    /**
     * The last {@code max} messages of the active path, oldest first: walked from the leaf, no further.
     * A conversation that never branched is the tail of its thread's list (creation order), so each
     * parent is first looked for just before its child there; a miss (a branch) looks it up by id.
     */
    private List<Message> activePath(ThreadId threadId, int max) {
        if (!db.isLive(threadId)) {
            return List.of();
        }
        List<Message> all = db.messagesByThread.getOrDefault(threadId, List.of());
        List<Message> path = new ArrayList<>(Math.min(max, all.size()));
        MessageId id = db.activeLeaves.get(threadId);
        int next = all.size() - 1;
        while (id != null && path.size() < max) {
            Message m;
            if (next >= 0 && all.get(next).id().equals(id)) {
                m = all.get(next--);
            } else {
                m = db.messagesById.get(id);
                next = -1;
            }
            path.add(m);
            id = m.parentId();
        }
        Collections.reverse(path);
        return path;
    }
}
