package dev.parley.chat.model;

import java.time.Instant;

/**
 * One version of an agent kept as data: its id ({@code agt_...} for stored agents), its owner
 * (null for the built-in agents wired in code), its version (1, 2, ... each immutable once
 * stored), the agent's current status, and what the version says. {@code createdAt} is when the
 * agent was created, {@code updatedAt} when this version was made.
 */
public record StoredAgent(String id, String ownerId, int version, AgentStatus status, AgentDefinition definition,
                          Instant createdAt, Instant updatedAt) {
    /** Prefix of stored agents' ids. */
    public static final String ID_PREFIX = "agt";

    public StoredAgent {
        Require.notBlank(id, "id");
        Require.inRange(version, 1, Integer.MAX_VALUE, "version");
        Require.notNull(status, "status");
        Require.notNull(definition, "definition");
        Require.notNull(createdAt, "createdAt");
        Require.notNull(updatedAt, "updatedAt");
    }

    /** Version 1 of a new agent. */
    public static StoredAgent create(String id, String ownerId, AgentDefinition definition, Instant now) {
        Ids.requireValid(ID_PREFIX, id, "stored agent id");
        return new StoredAgent(id, Require.notBlank(ownerId, "ownerId"), 1, AgentStatus.ACTIVE, definition, now, now);
    }

    /** The next version, saying {@code next}. */
    public StoredAgent nextVersion(AgentDefinition next, Instant now) {
        return new StoredAgent(id, ownerId, version + 1, status, next, createdAt, now);
    }

    public StoredAgent withStatus(AgentStatus newStatus) {
        return new StoredAgent(id, ownerId, version, newStatus, definition, createdAt, updatedAt);
    }

    /** True for agents wired in code (they have no owner). */
    public boolean isBuiltIn() {
        return ownerId == null;
    }

    /** Whether {@code userId} (null for an anonymous caller) may see this agent. */
    public boolean isVisibleTo(String userId) {
        return ownerId == null || definition.visibility() == AgentVisibility.SHARED || ownerId.equals(userId);
    }

    public boolean isArchived() {
        return status == AgentStatus.ARCHIVED;
    }
}
