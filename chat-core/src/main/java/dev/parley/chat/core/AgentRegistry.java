package dev.parley.chat.core;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Require;
import dev.parley.chat.port.in.AgentInfo;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.Tool;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agents this service runs, by id and in their listed order, and the default one.
 * Immutable once built; the model names the agents that name none.
 */
final class AgentRegistry {
    private final Map<String, Agent> byId;
    private final List<String> order;
    private final String defaultAgentId;
    private final ChatModel model;

    AgentRegistry(List<Agent> agents, String defaultAgent, ChatModel model) {
        Require.notEmpty(agents, "agents");
        Map<String, Agent> map = new LinkedHashMap<>();
        for (Agent agent : agents) {
            Require.that(map.put(agent.id(), agent) == null, "duplicate agent id " + agent.id());
        }
        this.byId = Map.copyOf(map);
        this.order = List.copyOf(map.keySet());
        this.defaultAgentId = defaultAgent == null ? agents.get(0).id() : defaultAgent;
        Require.that(map.containsKey(defaultAgentId), "the default agent " + defaultAgentId + " is not among the agents");
        this.model = model;
    }

    String defaultAgentId() {
        return defaultAgentId;
    }

    /** The agent, or null when none has this id (a run whose agent is no longer configured). */
    Agent find(String agentId) {
        return agentId == null ? null : byId.get(agentId);
    }

    /** The agent; {@code agent_not_found} when none has this id. */
    Agent require(String agentId) {
        Agent agent = find(agentId);
        if (agent == null) {
            throw NotFoundException.agent(agentId);
        }
        return agent;
    }

    /** The agent named, or the default one when {@code agentId} is null. */
    Agent orDefault(String agentId) {
        return require(agentId == null ? defaultAgentId : agentId);
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
}
