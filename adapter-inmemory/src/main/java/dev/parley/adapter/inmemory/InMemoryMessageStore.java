package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.MessageStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Messages of an {@link InMemoryChatStore}: one list per thread, index = position - 1. */
final class InMemoryMessageStore implements MessageStore {
    private final InMemoryChatStore db;

    InMemoryMessageStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public Message append(Message message) {
        return db.locked(() -> {
            ChatThread thread = db.threads.get(message.threadId());
            if (thread == null) {
                throw NotFoundException.thread(message.threadId());
            }
            if (db.messagesById.containsKey(message.id())) {
                throw InMemoryChatStore.duplicate("message " + message.id());
            }
            List<Message> list = db.listFor(db.messagesByThread, message.threadId());
            Message stored = message.atPosition(list.size() + 1L);
            db.add(list, stored);
            db.put(db.messagesById, stored.id(), stored);
            if (stored.createdAt().isAfter(thread.updatedAt())) {
                db.putThread(thread.touched(stored.createdAt()));
            }
            return stored;
        });
    }

    @Override
    public Optional<Message> find(MessageId id) {
        return db.locked(() -> Optional.ofNullable(db.messagesById.get(id)).filter(m -> db.isLive(m.threadId())));
    }

    @Override
    public Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order) {
        String kind = order == SortOrder.ASC ? "msga" : "msgd";
        long after = page.cursor() == null ? -1 : Cursors.parseLong(Cursors.decode(page.cursor(), kind, 1)[0]);
        if (page.cursor() != null && after < 1) {
            throw Cursors.invalid();
        }
        List<Message> slice = db.locked(() -> {
            List<Message> all = visible(threadId);
            List<Message> out = new ArrayList<>(Math.min(all.size(), page.limit() + 1));
            if (order == SortOrder.ASC) {
                int from = after < 0 ? 0 : (int) Math.min(after, all.size());
                for (int i = from; i < all.size() && out.size() <= page.limit(); i++) {
                    out.add(all.get(i));
                }
            } else {
                int from = after < 0 ? all.size() - 1 : (int) Math.min(after - 2, all.size() - 1L);
                for (int i = from; i >= 0 && out.size() <= page.limit(); i--) {
                    out.add(all.get(i));
                }
            }
            return out;
        });
        return Pages.of(slice, page.limit(), last -> Cursors.encode(kind, Long.toString(last.position())));
    }

    @Override
    public List<Message> latest(ThreadId threadId, int max) {
        Require.that(max >= 0, "max must not be negative");
        return db.locked(() -> {
            List<Message> all = visible(threadId);
            return List.copyOf(all.subList(Math.max(0, all.size() - max), all.size()));
        });
    }

    @Override
    public long count(ThreadId threadId) {
        return db.locked(() -> (long) visible(threadId).size());
    }

    private List<Message> visible(ThreadId threadId) {
        if (!db.isLive(threadId)) {
            return List.of();
        }
        return db.messagesByThread.getOrDefault(threadId, List.of());
    }
}
