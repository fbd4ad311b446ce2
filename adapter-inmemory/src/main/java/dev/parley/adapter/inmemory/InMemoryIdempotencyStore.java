package dev.parley.adapter.inmemory;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.port.out.IdempotencyStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Idempotency keys of an {@link InMemoryChatStore}. */
final class InMemoryIdempotencyStore implements IdempotencyStore {
    private final InMemoryChatStore db;

    InMemoryIdempotencyStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public Optional<IdempotencyRecord> find(String ownerId, String scope, String key) {
        return db.locked(() -> Optional.ofNullable(db.idempotency.get(new InMemoryChatStore.IdempotencyKey(ownerId, scope, key))));
    }

    @Override
    public void insert(IdempotencyRecord record) {
        db.locked(() -> {
            if (!db.threads.containsKey(record.threadId())) {
                throw NotFoundException.thread(record.threadId());
            }
            var key = new InMemoryChatStore.IdempotencyKey(record.ownerId(), record.scope(), record.key());
            if (db.idempotency.containsKey(key)) {
                throw InMemoryChatStore.duplicate("idempotency key " + record.key());
            }
            db.put(db.idempotency, key, record);
        });
    }

    @Override
    public int deleteOlderThan(Instant cutoff) {
        return db.locked(() -> {
            List<InMemoryChatStore.IdempotencyKey> old = new ArrayList<>();
            for (Map.Entry<InMemoryChatStore.IdempotencyKey, IdempotencyRecord> e : db.idempotency.entrySet()) {
                if (e.getValue().createdAt().isBefore(cutoff)) {
                    old.add(e.getKey());
                }
            }
            for (InMemoryChatStore.IdempotencyKey k : old) {
                db.remove(db.idempotency, k);
            }
            return old.size();
        });
    }
}
