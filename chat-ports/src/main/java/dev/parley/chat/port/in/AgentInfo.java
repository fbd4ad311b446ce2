package dev.parley.chat.port.in;

import dev.parley.chat.model.ToolSpec;
import java.util.List;

/** The public description of an agent (its system prompt stays private). */
public record AgentInfo(String id, String name, String description, String model, List<ToolSpec> tools) {
    public AgentInfo {
        tools = List.copyOf(tools);
    }
}
