package dev.parley.chat.core;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentVariable;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.InstructionTemplate;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.in.AgentInfo;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.AgentStore;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agents this service runs (built-in ones wired in code, stored ones by id and version), the
 * default one, and the tool registry that stored agents name their tools from.
 *
 * <p>Built-ins are listed in their order, read-only, version 1; the built-ins and the registry are
 * fixed once built; the model names the agents that name none.
 */
final class AgentRegistry {
    /** An agent as one run uses it: the agent (tools resolved), its model settings and its version. */
    record RunAgent(Agent agent, ModelSettings settings, int version, List<AgentVariable> variables, boolean archived) {
        /**
         * The agent as a run that recorded {@code used} runs it: with its instructions and its model
         * settings, and without its tools that require approval when the run withholds them.
         */
        RunAgent forRun(RunInstructions used) {
            Agent a = agent;
            List<Tool> tools = used.approvalToolsWithheld()
                    ? a.tools().stream().filter(t -> !t.requiresApproval()).toList() : a.tools();
            return new RunAgent(new Agent(a.id(), a.name(), a.description(), used.instructions(), a.model(), tools, a.limits()),
                    settings.overriddenBy(used.settings()), version, variables, archived);
        }
    }

    /** Most parsed instruction templates kept (by their text): an agent's are parsed once, not at every send. */
    private static final int TEMPLATES_KEPT = 256;
    private final Map<String, InstructionTemplate> templates = new ConcurrentHashMap<>();
    private final Map<String, Agent> byId;
    private final List<String> order;
    private final Map<String, Tool> tools;
    private final java.util.function.Supplier<? extends java.util.Collection<? extends Tool>> toolSource;
    private final String defaultAgentId;
    private final ChatModel model;
    private final AgentStore store;

    AgentRegistry(List<Agent> agents, String defaultAgent, ChatModel model, List<Tool> extraTools,
                  java.util.function.Supplier<? extends java.util.Collection<? extends Tool>> toolSource, AgentStore store) {
        Require.notEmpty(agents, "agents");
        Map<String, Agent> map = new LinkedHashMap<>();
        Map<String, Tool> registry = new LinkedHashMap<>();
        for (Tool tool : extraTools) {
            Require.that(registry.put(tool.name(), tool) == null, "duplicate tool name " + tool.name() + " in the tool registry");
        }
        for (Agent agent : agents) {
            Require.that(map.put(agent.id(), agent) == null, "duplicate agent id " + agent.id());
            Require.that(!agent.id().startsWith(StoredAgent.ID_PREFIX + "_"), "agent ids starting with agt_ are the stored agents'");
            for (Tool tool : agent.tools()) {
                registry.putIfAbsent(tool.name(), tool);
            }
        }
        this.byId = Map.copyOf(map);
        this.order = List.copyOf(map.keySet());
        this.tools = java.util.Collections.unmodifiableMap(registry);
        this.toolSource = toolSource;
        this.defaultAgentId = defaultAgent == null ? agents.get(0).id() : defaultAgent;
        Require.that(map.containsKey(defaultAgentId), "the default agent " + defaultAgentId + " is not among the agents");
        this.model = model;
        this.store = store;
    }

    String defaultAgentId() {
        return defaultAgentId;
    }

    /** The tool registry as it is now: the fixed tools, then the tool source's current ones. */
    Map<String, Tool> tools() {
        java.util.Collection<? extends Tool> current = toolSource.get();
        if (current == null || current.isEmpty()) {
            return tools;
        }
        Map<String, Tool> now = new LinkedHashMap<>(tools);
        for (Tool tool : current) {
            now.putIfAbsent(tool.name(), tool);
        }
        return java.util.Collections.unmodifiableMap(now);
    }

    List<Agent> builtIns() {
        return order.stream().map(byId::get).toList();
    }

    Agent builtIn(String agentId) {
        return agentId == null ? null : byId.get(agentId);
    }

    /** The agent (latest version), or null when none has this id (a run whose agent is no longer configured). */
    Agent find(String agentId) {
        RunAgent found = findLatest(agentId, false);
        return found == null ? null : found.agent();
    }

    /** The agent; {@code agent_not_found} when none has this id. */
    Agent require(String agentId) {
        return requireLatest(agentId, false).agent();
    }

    /** The agent named, or the default one when {@code agentId} is null. */
    Agent orDefault(String agentId) {
        return require(agentId == null ? defaultAgentId : agentId);
    }

    /**
     * The latest version of the agent a send or a new thread names; {@code locked} inside the send
     * transaction, so that an archive waits for it or is seen by it.
     */
    RunAgent requireLatest(String agentId, boolean locked) {
        RunAgent found = findLatest(agentId, locked);
        if (found == null) {
            throw NotFoundException.agent(agentId);
        }
        return found;
    }

    /** Refuses an archived stored agent for a new thread: {@code agent_archived}. */
    RunAgent requireActive(String agentId, boolean locked) {
        RunAgent found = requireLatest(agentId, locked);
        if (found.archived()) {
            throw new ConflictException(ConflictException.Reason.AGENT_ARCHIVED, "Agent " + agentId + " is archived");
        }
        return found;
    }

    /**
     * The agent as a thread pinned to {@code version} runs it; a version that does not exist is
     * {@code agent_version_not_found} (built-in agents have version 1 only).
     */
    RunAgent requireVersion(String agentId, int version) {
        RunAgent found = byId.containsKey(agentId)
                ? (version == 1 ? findLatest(agentId, false) : null)
                : store.find(agentId, version).map(this::runAgent).orElse(null);
        if (found == null) {
            throw new NotFoundException("agent_version_not_found", "Agent " + agentId + " has no version " + version);
        }
        return found;
    }

    private RunAgent findLatest(String agentId, boolean locked) {
        if (agentId == null) {
            return null;
        }
        Agent builtIn = byId.get(agentId);
        if (builtIn != null) {
            return new RunAgent(builtIn, ModelSettings.DEFAULT, 1, List.of(), false);
        }
        if (!agentId.startsWith(StoredAgent.ID_PREFIX + "_")) {
            return null;
        }
        Optional<StoredAgent> stored = locked ? store.lock(agentId) : store.find(agentId);
        return stored.map(this::runAgent).orElse(null);
    }

    /**
     * The agent as a stored run uses it: the version it recorded, with the instructions and model settings
     * it recorded; null when the agent is gone.
     */
    RunAgent forRun(Run run, Optional<RunInstructions> used) {
        RunAgent base;
        if (byId.containsKey(run.agentId()) || used.isEmpty()) {
            base = findLatest(run.agentId(), false);
        } else {
            base = store.find(run.agentId(), used.get().agentVersion()).map(this::runAgent).orElse(null);
        }
        return base == null ? null : used.map(base::forRun).orElse(base);
    }

    /** A stored agent version as the engine runs it: tools looked up in the registry (unknown ones left out). */
    RunAgent runAgent(StoredAgent stored) {
        AgentDefinition d = stored.definition();
        List<Tool> agentTools = new ArrayList<>();
        Map<String, Tool> registry = tools();
        for (String name : d.tools()) {
            Tool tool = registry.get(name);
            if (tool != null) {
                // the agent may require approval of a tool that does not require it by itself
                agentTools.add(d.approvalTools().contains(name) && !tool.requiresApproval() ? tool.requiringApproval() : tool);
            }
        }
        AgentLimits limits = d.approvalTimeoutSeconds() == null ? AgentLimits.DEFAULT
                : AgentLimits.DEFAULT.withApprovalTimeout(Duration.ofSeconds(d.approvalTimeoutSeconds()));
        Agent agent = new Agent(stored.id(), d.name(), d.description(), d.instructions(), d.model(), agentTools, limits);
        return new RunAgent(agent, d.modelSettings(), stored.version(), d.variables(), stored.isArchived());
    }

    /** The model the agent's runs use. */
    String modelName(Agent agent) {
        return agent.model() != null ? agent.model() : model.defaultModel();
    }

    List<AgentInfo> infos() {
        List<AgentInfo> infos = new ArrayList<>(order.size());
        for (String id : order) {
            infos.add(info(byId.get(id)));
        }
        return infos;
    }

    AgentInfo info(String agentId) {
        return info(require(agentId));
    }

    private AgentInfo info(Agent agent) {
        return new AgentInfo(agent.id(), agent.name(), agent.description(), modelName(agent),
                agent.tools().stream().map(Tool::spec).toList());
    }

    /**
     * The agent's instructions rendered for a run on {@code thread}: built-in names, then each
     * declared variable from {@code requestValues}, else the thread's metadata, else its default; a
     * required variable without a value is {@code validation_failed} on {@code variables.<name>}.
     * A built-in agent's prompt that is not a template of built-in names goes out as written.
     */
    RunInstructions render(RunAgent ra, ChatThread thread, String userId, Map<String, String> requestValues, Instant now) {
        String text = ra.agent().systemPrompt();
        InstructionTemplate template = templates.get(text);
        if (template == null) {
            try {
                template = InstructionTemplate.parse(text);
            } catch (InvalidRequestException e) {
                if (byId.containsKey(ra.agent().id())) {
                    return new RunInstructions(ra.version(), text);
                }
                throw e;
            }
            if (templates.size() >= TEMPLATES_KEPT) {
                templates.clear();
            }
            templates.put(text, template);
        }
        if (template.names().isEmpty() && ra.variables().isEmpty()) {
            return new RunInstructions(ra.version(), template.render(Map.of())); // nothing to fill in
        }
        Map<String, String> values = new HashMap<>();
        values.put("user_id", userId);
        values.put("now", now.toString());
        values.put("date", now.atOffset(ZoneOffset.UTC).toLocalDate().toString());
        values.put("thread_id", thread.id().value());
        values.put("thread_title", thread.title() == null ? "" : thread.title());
        values.put("agent_name", ra.agent().name());
        for (AgentVariable v : ra.variables()) {
            String value = requestValues.get(v.name());
            if (value == null) {
                value = thread.metadata().get(v.name());
            }
            if (value == null) {
                value = v.defaultValue();
            }
            if (value == null && v.required()) {
                throw InvalidRequestException.field("variables." + v.name(), "is required by the agent and has no value");
            }
            values.put(v.name(), value == null ? "" : value);
        }
        if (byId.containsKey(ra.agent().id()) && !values.keySet().containsAll(template.names())) {
            return new RunInstructions(ra.version(), text);
        }
        return new RunInstructions(ra.version(), template.render(values));
    }
}
