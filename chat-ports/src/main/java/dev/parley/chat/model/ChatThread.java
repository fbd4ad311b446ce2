package dev.parley.chat.model;

import java.time.Instant;
import java.util.Map;

/**
 * A conversation owned by one user and served by one agent (the API's "thread"; named so that it
 * never shadows {@link java.lang.Thread}). {@code title} is null until set by the client or
 * generated from the first user message. {@code deletedAt} is set once soft-deleted. {@code usage}
 * is the total of its ended runs, kept by the store as each run ends.
 */
public record ChatThread(
        ThreadId id,
        String ownerId,
        String agentId,
        String title,
        Map<String, String> metadata,
        Instant createdAt,
        Instant updatedAt,
        Instant deletedAt,
        Integer agentVersion,
        UsageTotals usage) {

    public ChatThread {
        Require.notNull(id, "id");
        Require.notBlank(ownerId, "ownerId");
        Require.notBlank(agentId, "agentId");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
        Require.notNull(createdAt, "createdAt");
        Require.notNull(updatedAt, "updatedAt");
        Require.that(agentVersion == null || agentVersion >= 1, "agentVersion must be at least 1");
        usage = usage == null ? UsageTotals.NONE : usage;
    }

    /** A thread without usage yet (or whose usage the caller does not know). */
    public ChatThread(ThreadId id, String ownerId, String agentId, String title, Map<String, String> metadata,
                      Instant createdAt, Instant updatedAt, Instant deletedAt, Integer agentVersion) {
        this(id, ownerId, agentId, title, metadata, createdAt, updatedAt, deletedAt, agentVersion, UsageTotals.NONE);
    }

    /** A thread that follows its agent's latest version. */
    public ChatThread(ThreadId id, String ownerId, String agentId, String title, Map<String, String> metadata,
                      Instant createdAt, Instant updatedAt, Instant deletedAt) {
        this(id, ownerId, agentId, title, metadata, createdAt, updatedAt, deletedAt, null, UsageTotals.NONE);
    }

    public static ChatThread create(ThreadId id, String ownerId, String agentId, String title,
                                    Map<String, String> metadata, Instant now) {
        return new ChatThread(id, ownerId, agentId, title, metadata, now, now, null);
    }

    /** This thread pinned to {@code version} of its agent ({@code null}: it follows the latest). */
    public ChatThread withAgentVersion(Integer version) {
        return new ChatThread(id, ownerId, agentId, title, metadata, createdAt, updatedAt, deletedAt, version, usage);
    }

    public boolean isDeleted() {
        return deletedAt != null;
    }

    public boolean isOwnedBy(String userId) {
        return ownerId.equals(userId);
    }

    public ChatThread withTitle(String newTitle, Instant now) {
        return new ChatThread(id, ownerId, agentId, newTitle, metadata, createdAt, now, deletedAt, agentVersion, usage);
    }

    public ChatThread withMetadata(Map<String, String> newMetadata, Instant now) {
        return new ChatThread(id, ownerId, agentId, title, newMetadata, createdAt, now, deletedAt, agentVersion, usage);
    }

    /** The thread after a new message: {@code updatedAt} moves on. */
    public ChatThread touched(Instant now) {
        return new ChatThread(id, ownerId, agentId, title, metadata, createdAt, now, deletedAt, agentVersion, usage);
    }

    /** This thread with {@code totals} as the usage of its ended runs. */
    public ChatThread withUsage(UsageTotals totals) {
        return new ChatThread(id, ownerId, agentId, title, metadata, createdAt, updatedAt, deletedAt, agentVersion, totals);
    }

    /** This thread live again (restored from the trash). */
    public ChatThread restored() {
        return new ChatThread(id, ownerId, agentId, title, metadata, createdAt, updatedAt, null, agentVersion, usage);
    }

    public ChatThread deleted(Instant now) {
        return new ChatThread(id, ownerId, agentId, title, metadata, createdAt, updatedAt, now, agentVersion, usage);
    }
}
