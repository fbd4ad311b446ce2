package dev.parley.chat.port.out;

import dev.parley.chat.model.Require;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An agent: who answers a thread. {@code model} names the model (null for the ChatModel's
 * default); {@code systemPrompt} always opens the conversation sent to the model. Build one with
 * {@link #builder(String)}:
 *
 * <pre>{@code
 * Agent support = Agent.builder("support")
 *         .name("Order support")
 *         .instructions("You help customers with their orders.")
 *         .tools(orderStatus)
 *         .build();
 * }</pre>
 */
public record Agent(String id, String name, String description, String systemPrompt, String model,
                    List<Tool> tools, AgentLimits limits) {
    /** What an agent id may be (compiled once: a turn builds its agent). */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    public Agent {
        Require.notBlank(id, "id");
        Require.that(ID.matcher(id).matches(), "agent ids are 1-64 of A-Z a-z 0-9 _ . -");
        Require.notBlank(name, "name");
        description = description == null ? "" : description;
        systemPrompt = systemPrompt == null ? "" : systemPrompt;
        tools = tools == null ? List.of() : List.copyOf(tools);
        limits = limits == null ? AgentLimits.DEFAULT : limits;
        var names = new HashSet<String>();
        for (Tool t : tools) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("duplicate tool name " + t.name() + " in agent " + id);
            }
        }
    }

    /** A builder of the agent {@code id} (1-64 of {@code A-Z a-z 0-9 _ . -}); its name is the id until set. */
    public static Builder builder(String id) {
        return new Builder(id);
    }

    public Optional<Tool> tool(String toolName) {
        return tools.stream().filter(t -> t.name().equals(toolName)).findFirst();
    }

    /**
     * Settings of an {@link Agent}; everything but the id is optional. {@link #build()} applies the
     * checks of the record (it throws IllegalArgumentException for a bad id or two tools of one
     * name). Not thread-safe.
     */
    public static final class Builder {
        private final String id;
        private String name;
        private String description;
        private String instructions;
        private String model;
        private final List<Tool> tools = new ArrayList<>();
        private AgentLimits limits;

        private Builder(String id) {
            this.id = id;
        }

        /** The name shown to users; the id when not set. */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** What the agent is for, shown to users. */
        public Builder description(String description) {
            this.description = description;
            return this;
        }

        /** The system prompt that opens every conversation sent to the model. */
        public Builder instructions(String instructions) {
            this.instructions = instructions;
            return this;
        }

        /** The model the agent asks; the ChatModel's default when not set. */
        public Builder model(String model) {
            this.model = model;
            return this;
        }

        /** Adds tools the model may call. */
        public Builder tools(Tool... tools) {
            return tools(Arrays.asList(tools));
        }

        /** Adds tools the model may call. */
        public Builder tools(List<? extends Tool> tools) {
            for (Tool tool : tools) {
                this.tools.add(Require.notNull(tool, "tool"));
            }
            return this;
        }

        /** Bounds on the agent's runs; {@link AgentLimits#DEFAULT} when not set. */
        public Builder limits(AgentLimits limits) {
            this.limits = limits;
            return this;
        }

        public Agent build() {
            return new Agent(id, name == null ? id : name, description, instructions, model, tools, limits);
        }
    }
}
