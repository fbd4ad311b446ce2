package dev.parley.chat.testkit;

import dev.parley.chat.port.out.IdempotencyRecord;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import java.time.Instant;

/** Builds an {@link IdempotencyRecord}; defaults: owner {@code alice}, empty scope, key {@code key-1}, at {@link Fixtures#T0}. */
public final class IdempotencyRecordBuilder {
    private String ownerId = "alice";
    private String scope = "";
    private String key = "key-1";
    private String requestHash = "sha256:0f1e2d";
    private ThreadId threadId;
    private RunId runId;
    private Instant createdAt = Fixtures.T0;

    IdempotencyRecordBuilder() {}

    public IdempotencyRecordBuilder ownedBy(String value) {
        this.ownerId = value;
        return this;
    }

    public IdempotencyRecordBuilder inScope(String value) {
        this.scope = value;
        return this;
    }

    public IdempotencyRecordBuilder withKey(String value) {
        this.key = value;
        return this;
    }

    public IdempotencyRecordBuilder withRequestHash(String value) {
        this.requestHash = value;
        return this;
    }

    public IdempotencyRecordBuilder forRun(Run run) {
        this.threadId = run.threadId();
        this.runId = run.id();
        return this;
    }

    public IdempotencyRecordBuilder forRun(ThreadId thread, RunId run) {
        this.threadId = thread;
        this.runId = run;
        return this;
    }

    public IdempotencyRecordBuilder createdAt(Instant value) {
        this.createdAt = value;
        return this;
    }

    public IdempotencyRecord build() {
        if (threadId == null || runId == null) {
            throw new IllegalStateException("anIdempotencyRecord() needs forRun(...)");
        }
        return new IdempotencyRecord(ownerId, scope, key, requestHash, threadId, runId, createdAt);
    }
}
