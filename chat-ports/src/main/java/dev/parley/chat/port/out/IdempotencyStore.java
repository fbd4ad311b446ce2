package dev.parley.chat.port.out;

import java.time.Instant;
import java.util.Optional;

/** Idempotency keys, unique per owner, scope and key for every server sharing the store. */
public interface IdempotencyStore {

    /** The record for the key, or empty. */
    Optional<IdempotencyRecord> find(String ownerId, String scope, String key);

    /** Stores a new record; an existing (owner, scope, key) is a ConflictException ({@code duplicate}). */
    void insert(IdempotencyRecord record);

    /** Removes records created before {@code cutoff}; returns how many. */
    int deleteOlderThan(Instant cutoff);
}
