package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import java.time.Instant;

/**
 * A remembered request: {@code key} sent by {@code ownerId} within {@code scope} (a thread id, or
 * empty for requests that named no thread) produced {@code runId} on {@code threadId}.
 * {@code requestHash} fingerprints the request body so that a reused key with another body is told
 * apart from a retry.
 */
public record IdempotencyRecord(String ownerId, String scope, String key, String requestHash,
                                ThreadId threadId, RunId runId, Instant createdAt) {
    public IdempotencyRecord {
        Require.notBlank(ownerId, "ownerId");
        Require.notNull(scope, "scope");
        Require.notBlank(key, "key");
        Require.notBlank(requestHash, "requestHash");
        Require.notNull(threadId, "threadId");
        Require.notNull(runId, "runId");
        Require.notNull(createdAt, "createdAt");
    }
}
