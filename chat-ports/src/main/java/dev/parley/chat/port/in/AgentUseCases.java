package dev.parley.chat.port.in;

import java.util.List;

/** The agents a driving adapter may name. Thread-safe. */
public interface AgentUseCases {
    List<AgentInfo> agents();

    /** One agent; unknown: NotFoundException {@code agent_not_found}. */
    AgentInfo agent(String agentId);

    /** The id of the agent used when a request names none. */
    String defaultAgentId();
}
