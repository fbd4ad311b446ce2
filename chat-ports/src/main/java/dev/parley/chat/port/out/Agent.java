package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * An agent: who answers a thread. {@code model} names the model (null for the ChatModel's
 * default); {@code systemPrompt} always opens the conversation sent to the model.
 */
public record Agent(String id, String name, String description, String systemPrompt, String model,
                    List<Tool> tools, AgentLimits limits) {
    public Agent {
        Require.notBlank(id, "id");
        Require.that(id.matches("[A-Za-z0-9_.-]{1,64}"), "agent ids are 1-64 of A-Z a-z 0-9 _ . -");
        Require.notBlank(name, "name");
        description = description == null ? "" : description;
        systemPrompt = systemPrompt == null ? "" : systemPrompt;
        tools = tools == null ? List.of() : List.copyOf(tools);
        limits = limits == null ? AgentLimits.DEFAULT : limits;
        var names = new HashSet<String>();
        for (Tool t : tools) {
            Require.that(names.add(t.name()), "duplicate tool name " + t.name() + " in agent " + id);
        }
    }

    public Optional<Tool> tool(String toolName) {
        return tools.stream().filter(t -> t.name().equals(toolName)).findFirst();
    }
}
