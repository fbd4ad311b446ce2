package dev.parley.chat.port.out;

import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import java.time.Instant;
import java.util.Optional;

/**
 * Stored agents and every version of each. Versions are immutable: an update adds version
 * {@code n + 1} beside the ones before. Thread-safe; each method is atomic, and joins the
 * transaction of {@link ChatStore#inTransaction} when called inside one.
 *
 * <p>No lost update: {@link #addVersion} succeeds only when the agent's latest version is the one
 * just before, which the backend enforces itself (a unique key, a conditional update); a writer
 * that lost the race gets a ConflictException ({@code agent_version_conflict}) and tries again on
 * the new latest version. Callers that {@link #lock} first take turns instead.
 */
public interface AgentStore {

    /** Stores version 1 of a new agent; an agent with the same id is a ConflictException ({@code duplicate}). */
    void create(StoredAgent agent);

    /** The agent's latest version (with its current status), or empty. */
    Optional<StoredAgent> find(String id);

    /**
     * Like {@link #find} and, inside {@link ChatStore#inTransaction}, locks the agent until the
     * transaction ends: updates, archives and the runs started on the agent take turns.
     */
    Optional<StoredAgent> lock(String id);

    /** One version of the agent (with the agent's current status), or empty. */
    Optional<StoredAgent> find(String id, int version);

    /**
     * The agents of {@code status} that {@code viewerId} sees (shared ones and the viewer's own;
     * shared ones only when {@code viewerId} is null), latest versions, newest agent first (by id,
     * descending). Keyset paging: cost does not grow with depth.
     */
    Page<StoredAgent> list(String viewerId, AgentStatus status, PageRequest page);

    /** The agent's versions, newest first; empty page when there is no such agent. */
    Page<StoredAgent> versions(String id, PageRequest page);

    /**
     * Stores {@code next} as the agent's new latest version. Throws ConflictException
     * ({@code agent_version_conflict}) unless the latest stored version is {@code next.version() - 1},
     * and NotFoundException ({@code agent_not_found}) when there is no such agent.
     */
    void addVersion(StoredAgent next);

    /** Sets the agent's status (every version shares it); false when there is no such agent. */
    boolean setStatus(String id, AgentStatus status, Instant now);

    /** A store that keeps no agents: reads find nothing, writes throw UnsupportedOperationException. */
    static AgentStore none() {
        return NoAgentStore.INSTANCE;
    }
}
