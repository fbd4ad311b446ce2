package dev.parley.adapter.inmemory;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ThreadStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The live (not deleted) threads of each owner, and of each owner and agent, in the order of
 * {@link ThreadStore#list}: sort keys only, the threads themselves being the store's. Changes are
 * undoable like every other change of the store; call with its lock held.
 */
final class ThreadListing {
    private final InMemoryChatStore db;
    private final Map<String, NavigableSet<Key>> byOwner = new HashMap<>();
    private final Map<OwnerAgent, NavigableSet<Key>> byOwnerAgent = new HashMap<>();

    ThreadListing(InMemoryChatStore db) {
        this.db = db;
    }

    private record OwnerAgent(String ownerId, String agentId) {}

    /** A thread's place in the listing: most recently updated first, ties by id descending. */
    record Key(Instant updatedAt, ThreadId id) implements Comparable<Key> {
        static Key of(ChatThread thread) {
            return new Key(thread.updatedAt(), thread.id());
        }

        @Override
        public int compareTo(Key other) {
            int byTime = other.updatedAt.compareTo(updatedAt);
            return byTime != 0 ? byTime : other.id.compareTo(id);
        }
    }

    /**
     * Moves a thread from its previous version's place (null: a new thread) to its new one; a change
     * that leaves its place (its totals, its title) leaves the listing alone.
     */
    void replace(ChatThread previous, ChatThread thread) {
        if (previous != null && !previous.isDeleted() && !thread.isDeleted()
                && previous.updatedAt().equals(thread.updatedAt()) && previous.ownerId().equals(thread.ownerId())
                && Objects.equals(previous.agentId(), thread.agentId())) {
            return;
        }
        if (previous != null) {
            unlist(previous);
        }
        if (!thread.isDeleted()) {
            Key key = Key.of(thread);
            db.addTo(setFor(byOwner, thread.ownerId()), key);
            db.addTo(setFor(byOwnerAgent, new OwnerAgent(thread.ownerId(), thread.agentId())), key);
        }
    }

    /** Takes a stored thread version out of the listing. */
    void unlist(ChatThread stored) {
        Key key = Key.of(stored);
        unlistFrom(byOwner, stored.ownerId(), key);
        unlistFrom(byOwnerAgent, new OwnerAgent(stored.ownerId(), stored.agentId()), key);
    }

    /**
     * The owner's live threads (of one agent when {@code agentId} is given) after {@code after} (null:
     * from the first), at most {@code max}: costs what it returns, not the owner's threads.
     */
    List<ChatThread> page(String ownerId, String agentId, Key after, int max) {
        NavigableSet<Key> owned = agentId == null ? byOwner.get(ownerId) : byOwnerAgent.get(new OwnerAgent(ownerId, agentId));
        List<ChatThread> found = new ArrayList<>();
        if (owned == null) {
            return found;
        }
        for (Key key : after == null ? owned : owned.tailSet(after, false)) {
            if (found.size() >= max) {
                break;
            }
            found.add(db.threads.get(key.id()));
        }
        return found;
    }

    private <K> void unlistFrom(Map<K, NavigableSet<Key>> index, K key, Key stored) {
        NavigableSet<Key> set = index.get(key);
        if (set != null) {
            db.removeFrom(set, stored);
            if (set.isEmpty()) {
                db.remove(index, key);
            }
        }
    }

    private <K> NavigableSet<Key> setFor(Map<K, NavigableSet<Key>> index, K key) {
        NavigableSet<Key> set = index.get(key);
        if (set == null) {
            set = new TreeSet<>();
            db.put(index, key, set);
        }
        return set;
    }
}
