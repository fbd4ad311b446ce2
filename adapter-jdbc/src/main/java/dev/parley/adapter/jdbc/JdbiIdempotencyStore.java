package dev.parley.adapter.jdbc;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.port.out.IdempotencyStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** Idempotency keys in {@code parley_idempotency_keys}; the primary key (owner, scope, key) makes them unique. */
final class JdbiIdempotencyStore implements IdempotencyStore {
    private static final String COLUMNS = "owner_id, scope, idem_key, request_hash, thread_id, run_id, created_at";

    private final Db db;
    private final String find;
    private final String insert;
    private final String deleteOlder;

    JdbiIdempotencyStore(Db db) {
        this.db = db;
        String keys = db.table("parley_idempotency_keys");
        find = "SELECT " + COLUMNS + " FROM " + keys + " WHERE owner_id = :owner AND scope = :scope AND idem_key = :key";
        insert = "INSERT INTO " + keys + " (" + COLUMNS + ") VALUES (:owner, :scope, :key, :hash, :thread, :run, :created)";
        deleteOlder = "DELETE FROM " + keys + " WHERE created_at < :cutoff";
    }

    @Override
    public Optional<IdempotencyRecord> find(String ownerId, String scope, String key) {
        return db.call(h -> h.createQuery(find)
                .bind("owner", Text.put(ownerId))
                .bind("scope", Text.put(scope))
                .bind("key", Text.put(key))
                .map((rs, ctx) -> record(rs))
                .findOne());
    }

    @Override
    public void insert(IdempotencyRecord record) {
        try {
            insertRow(record);
        } catch (NotFoundException e) {
            throw NotFoundException.thread(record.threadId());
        }
    }

    private void insertRow(IdempotencyRecord record) {
        db.call(h -> h.createUpdate(insert)
                .bind("owner", Text.put(record.ownerId()))
                .bind("scope", Text.put(record.scope()))
                .bind("key", Text.put(record.key()))
                .bind("hash", Text.put(record.requestHash()))
                .bind("thread", record.threadId().value())
                .bind("run", record.runId().value())
                .bind("created", record.createdAt())
                .execute());
    }

    @Override
    public int deleteOlderThan(Instant cutoff) {
        return db.call(h -> h.createUpdate(deleteOlder).bind("cutoff", cutoff).execute());
    }

    private static IdempotencyRecord record(ResultSet rs) throws SQLException {
        return new IdempotencyRecord(
                Text.get(rs.getString("owner_id")),
                Text.get(rs.getString("scope")),
                Text.get(rs.getString("idem_key")),
                Text.get(rs.getString("request_hash")),
                new ThreadId(rs.getString("thread_id")),
                new RunId(rs.getString("run_id")),
                Db.instant(rs, "created_at"));
    }
}
