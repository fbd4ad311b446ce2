package dev.parley.chat.core;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.ForbiddenException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.in.AgentPatch;
import dev.parley.chat.port.in.AgentSeed;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Agents as data: creating, reading, versioning and archiving stored agents under the rules of
 * {@link dev.parley.chat.port.in.AgentAdmin}.
 *
 * <p>The rules: ownership, the admin role for shared agents, the read-only built-ins, tools from the
 * registry. Changes of one agent take turns on its row lock.
 */
final class AgentDesk {
    private static final int SEED_ATTEMPTS = 3;
    private final Engine engine;
    private final AgentRegistry agents;
    private final Instant startedAt;
    /** The built-in agents as stored agents, made once each (the built-ins are fixed for the service's life). */
    private final Map<String, StoredAgent> builtInViews = new ConcurrentHashMap<>();

    AgentDesk(Engine engine, AgentRegistry agents) {
        this.engine = engine;
        this.agents = agents;
        this.startedAt = engine.now();
    }

    StoredAgent create(Caller caller, AgentDefinition requested) {
        String userId = requireUser(caller);
        Require.notNull(requested, "definition");
        AgentDefinition definition = checkTools(requested);
        requireAdminFor(caller, definition.visibility());
        StoredAgent agent = StoredAgent.create(engine.ids().next(StoredAgent.ID_PREFIX), userId, definition, engine.now());
        engine.store().agents().create(agent);
        return agent;
    }

    StoredAgent get(Caller caller, String agentId) {
        Agent builtIn = agents.builtIn(agentId);
        return builtIn != null ? builtInView(builtIn) : visible(caller, agentId, engine.store().agents().find(agentId));
    }

    StoredAgent version(Caller caller, String agentId, int version) {
        StoredAgent latest = get(caller, agentId);
        if (latest.version() == version) {
            return latest;
        }
        return (latest.isBuiltIn() ? java.util.Optional.<StoredAgent>empty() : engine.store().agents().find(agentId, version))
                .orElseThrow(() -> new NotFoundException("agent_version_not_found", "Agent " + agentId + " has no version " + version));
    }

    Page<StoredAgent> versions(Caller caller, String agentId, PageRequest page) {
        StoredAgent latest = get(caller, agentId);
        return latest.isBuiltIn() ? Page.last(List.of(latest)) : engine.store().agents().versions(agentId, orFirst(page));
    }

    Page<StoredAgent> list(Caller caller, AgentStatus status, PageRequest page) {
        PageRequest request = orFirst(page);
        AgentStatus wanted = status == null ? AgentStatus.ACTIVE : status;
        boolean firstActive = request.cursor() == null && wanted == AgentStatus.ACTIVE;
        List<Agent> builtIns = firstActive ? agents.builtIns() : List.of();
        PageRequest storedPage = new PageRequest(Math.max(1, request.limit() - builtIns.size()), request.cursor());
        Page<StoredAgent> stored = engine.store().agents().list(caller == null ? null : caller.userId(), wanted, storedPage);
        List<StoredAgent> items = new ArrayList<>();
        builtIns.forEach(a -> items.add(builtInView(a)));
        items.addAll(stored.items());
        return new Page<>(items, stored.hasMore(), stored.nextCursor());
    }

    StoredAgent update(Caller caller, String agentId, AgentPatch patch) {
        Require.notNull(patch, "patch");
        return engine.store().inTransaction(() -> {
            StoredAgent latest = writable(caller, agentId);
            StoredAgent result = latest;
            if (patch.changesDefinition()) {
                AgentDefinition next = checkTools(patch.applyTo(latest.definition()));
                requireAdminFor(caller, next.visibility());
                result = latest.nextVersion(next, engine.now());
                engine.store().agents().addVersion(result);
            }
            if (patch.status() != null && patch.status() != latest.status()) {
                engine.store().agents().setStatus(agentId, patch.status(), engine.now());
                result = result.withStatus(patch.status());
            }
            return result;
        });
    }

    void archive(Caller caller, String agentId) {
        engine.store().inTransaction(() -> {
            writable(caller, agentId);
            engine.store().agents().setStatus(agentId, AgentStatus.ARCHIVED, engine.now());
        });
    }

    StoredAgent seed(AgentSeed seed) {
        Require.notNull(seed, "seed");
        Require.that(agents.builtIn(seed.id()) == null, "agent " + seed.id() + " is built in");
        checkTools(seed.definition());
        for (int attempt = 1; ; attempt++) {
            try {
                return engine.store().inTransaction(() -> {
                    java.util.Optional<StoredAgent> found = engine.store().agents().lock(seed.id());
                    if (found.isEmpty()) {
                        StoredAgent created = StoredAgent.create(seed.id(), seed.ownerId(), seed.definition(), engine.now());
                        engine.store().agents().create(created);
                        return created;
                    }
                    StoredAgent latest = found.get();
                    if (latest.definition().equals(seed.definition())) {
                        return latest;
                    }
                    StoredAgent next = latest.nextVersion(seed.definition(), engine.now());
                    engine.store().agents().addVersion(next);
                    return next;
                });
            } catch (ConflictException e) {
                // another server created the agent or added the version first: look again
                boolean raced = e.reason() == ConflictException.Reason.DUPLICATE
                        || e.reason() == ConflictException.Reason.AGENT_VERSION_CONFLICT;
                if (!raced || attempt == SEED_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    List<ToolSpec> tools() {
        return agents.tools().values().stream().map(Tool::spec).toList();
    }

    /** The latest version, locked, when the caller may change it. */
    private StoredAgent writable(Caller caller, String agentId) {
        requireUser(caller);
        if (agents.builtIn(agentId) != null) {
            throw new ForbiddenException(ForbiddenException.Reason.AGENT_READ_ONLY, "Agent " + agentId + " is built in and cannot be changed");
        }
        StoredAgent latest = visible(caller, agentId, engine.store().agents().lock(agentId));
        if (latest.definition().visibility() == AgentVisibility.SHARED) {
            requireAdminFor(caller, AgentVisibility.SHARED);
        } else if (!latest.ownerId().equals(caller.userId())) {
            throw NotFoundException.agent(agentId);
        }
        return latest;
    }

    private static StoredAgent visible(Caller caller, String agentId, java.util.Optional<StoredAgent> found) {
        return found.filter(a -> a.isVisibleTo(caller == null ? null : caller.userId()))
                .orElseThrow(() -> NotFoundException.agent(agentId));
    }

    /**
     * The definition once its tools are known to the registry, with the tools that require approval by
     * themselves among those it requires approval of (so that a stored version says what its runs do).
     */
    private AgentDefinition checkTools(AgentDefinition definition) {
        List<FieldError> errors = new ArrayList<>();
        for (int i = 0; i < definition.tools().size(); i++) {
            if (!agents.tools().containsKey(definition.tools().get(i))) {
                errors.add(new FieldError("tools[" + i + "].name", "is not a tool of this server (GET /api/v1/tools lists them)"));
            }
        }
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(InvalidRequestException.Reason.VALIDATION_FAILED, "Unknown tools: " + errors.get(0).field(), errors);
        }
        List<String> approvals = new ArrayList<>();
        for (String name : definition.tools()) {
            if (definition.approvalTools().contains(name) || agents.tools().get(name).requiresApproval()) {
                approvals.add(name);
            }
        }
        return approvals.equals(definition.approvalTools()) ? definition
                : definition.withApprovals(approvals, definition.approvalTimeoutSeconds());
    }

    private static void requireAdminFor(Caller caller, AgentVisibility visibility) {
        if (visibility == AgentVisibility.SHARED && !caller.isAdmin()) {
            throw new ForbiddenException(ForbiddenException.Reason.FORBIDDEN, "Creating or changing a shared agent needs the admin role");
        }
    }

    private static String requireUser(Caller caller) {
        Require.that(caller != null && caller.userId() != null && !caller.userId().isBlank(), "a write needs a signed-in caller");
        return caller.userId();
    }

    private static PageRequest orFirst(PageRequest page) {
        return page == null ? PageRequest.firstPage() : page;
    }

    private StoredAgent builtInView(Agent agent) {
        return builtInViews.computeIfAbsent(agent.id(), id -> viewOf(agent));
    }

    private StoredAgent viewOf(Agent agent) {
        List<String> toolNames = agent.tools().stream().map(Tool::name).toList();
        List<String> approvals = agent.tools().stream().filter(Tool::requiresApproval).map(Tool::name).toList();
        Duration timeout = agent.limits().approvalTimeout();
        AgentDefinition d = new AgentDefinition(agent.name(), agent.description(), "", agents.modelName(agent), null, toolNames,
                List.of(), AgentVisibility.SHARED, null, approvals,
                timeout.equals(AgentLimits.DEFAULT_APPROVAL_TIMEOUT) ? null : (int) Math.min(timeout.toSeconds(),
                        AgentDefinition.MAX_APPROVAL_TIMEOUT_SECONDS));
        return new StoredAgent(agent.id(), null, 1, AgentStatus.ACTIVE, d, startedAt, startedAt);
    }
}
