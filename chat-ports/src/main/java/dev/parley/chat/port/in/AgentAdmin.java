package dev.parley.chat.port.in;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ToolSpec;
import java.util.List;

/**
 * Agents as data: create, read, version, archive and restore the stored agents, beside the
 * built-in ones wired in code (read-only, owner null, version 1). Thread-safe.
 *
 * <p>Rules: a private agent is its creator's alone, a shared one everyone's to see; creating or
 * changing a shared agent (or making one shared) needs {@link Caller#isAdmin()}, else
 * ForbiddenException ({@code forbidden}). Another user's private agent behaves exactly like a
 * missing one: NotFoundException ({@code agent_not_found}). Any write to a built-in agent is a
 * ForbiddenException ({@code agent_read_only}). Tools named must be in {@link #tools()}, else a
 * validation error on {@code tools[i].name}. Every change of the definition makes the next
 * version; versions are never changed or removed.
 */
public interface AgentAdmin {

    /** Creates version 1 of a new agent owned by the caller. */
    StoredAgent createAgent(Caller caller, AgentDefinition definition);

    /** The latest version of an agent the caller sees (built-in or stored). */
    StoredAgent getAgent(Caller caller, String agentId);

    /** One version; a version that does not exist is NotFoundException ({@code agent_version_not_found}). */
    StoredAgent getAgentVersion(Caller caller, String agentId, int version);

    /** The agent's versions, newest first. */
    Page<StoredAgent> listAgentVersions(Caller caller, String agentId, PageRequest page);

    /**
     * The agents the caller sees with {@code status}: for {@code active} the built-in ones first
     * (on the first page), then the stored ones, newest first.
     */
    Page<StoredAgent> listAgents(Caller caller, AgentStatus status, PageRequest page);

    /** Applies the patch: a new version when it changes the definition; its status when it has one. */
    StoredAgent updateAgent(Caller caller, String agentId, AgentPatch patch);

    /** Archives the agent: new threads naming it are refused ({@code agent_archived}), its threads go on. */
    void archiveAgent(Caller caller, String agentId);

    /**
     * Makes the stored agent {@code seed.id()} say {@code seed.definition()}, for agents an
     * application brings with it and applies at every start: creates it (version 1, owned by
     * {@code seed.ownerId()}) when it does not exist, adds the next version when its latest one says
     * something else, and changes nothing when it already says this. The owner of an existing agent
     * and its status stay as they are (an agent archived through the API stays archived). No role
     * is checked: this is the application's own code, not a user's request. Tools must be in
     * {@link #tools()}. Safe when several servers seed the same agent at once: one creates it or
     * adds the version, the others find it done.
     */
    StoredAgent seedAgent(AgentSeed seed);

    /** The tool registry: every tool an agent may name. */
    List<ToolSpec> tools();
}
