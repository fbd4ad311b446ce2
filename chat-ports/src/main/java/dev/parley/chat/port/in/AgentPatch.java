package dev.parley.chat.port.in;

import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVariable;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ModelSettings;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A change to a stored agent: each non-null field replaces the latest version's, the others keep
 * theirs. {@code model} as an empty Optional clears the model (the server's default); null keeps
 * it. {@code status} {@code active} restores an archived agent; when only {@code status} is given
 * no new version is made. {@code approvalTools} (the tools needing approval) goes with {@code tools}:
 * a patch that names tools names them (null: none of them). {@code approvalTimeoutSeconds} as an
 * empty Optional restores the default.
 */
public record AgentPatch(String name, String description, String instructions, Optional<String> model,
                         ModelSettings modelSettings, List<String> tools, List<AgentVariable> variables,
                         AgentVisibility visibility, Map<String, String> metadata, AgentStatus status,
                         List<String> approvalTools, Optional<Integer> approvalTimeoutSeconds) {

    /** A patch that leaves approvals as they are, but with {@code tools}. */
    public AgentPatch(String name, String description, String instructions, Optional<String> model,
                      ModelSettings modelSettings, List<String> tools, List<AgentVariable> variables,
                      AgentVisibility visibility, Map<String, String> metadata, AgentStatus status) {
        this(name, description, instructions, model, modelSettings, tools, variables, visibility, metadata, status, null, null);
    }

    public static AgentPatch none() {
        return new AgentPatch(null, null, null, null, null, null, null, null, null, null);
    }

    /** True when the patch changes something of the definition (and so makes a new version). */
    public boolean changesDefinition() {
        return name != null || description != null || instructions != null || model != null || modelSettings != null
                || tools != null || variables != null || visibility != null || metadata != null || approvalTimeoutSeconds != null;
    }

    /** {@code base} with this patch applied, validated. */
    public AgentDefinition applyTo(AgentDefinition base) {
        return new AgentDefinition(
                name != null ? name : base.name(),
                description != null ? description : base.description(),
                instructions != null ? instructions : base.instructions(),
                model != null ? model.orElse(null) : base.model(),
                modelSettings != null ? modelSettings : base.modelSettings(),
                tools != null ? tools : base.tools(),
                variables != null ? variables : base.variables(),
                visibility != null ? visibility : base.visibility(),
                metadata != null ? metadata : base.metadata(),
                tools != null ? approvalTools : base.approvalTools(),
                approvalTimeoutSeconds != null ? approvalTimeoutSeconds.orElse(null) : base.approvalTimeoutSeconds());
    }

    /** This patch with approvals: the tools of {@link #tools} needing approval, and the timeout (see the class). */
    public AgentPatch withApprovals(List<String> approvals, Optional<Integer> timeoutSeconds) {
        return new AgentPatch(name, description, instructions, model, modelSettings, tools, variables, visibility, metadata, status,
                approvals, timeoutSeconds);
    }

    public AgentPatch withName(String newName) {
        return new AgentPatch(newName, description, instructions, model, modelSettings, tools, variables, visibility, metadata, status,
                approvalTools, approvalTimeoutSeconds);
    }

    public AgentPatch withInstructions(String text) {
        return new AgentPatch(name, description, text, model, modelSettings, tools, variables, visibility, metadata, status,
                approvalTools, approvalTimeoutSeconds);
    }

    public AgentPatch withVariables(List<AgentVariable> vars) {
        return new AgentPatch(name, description, instructions, model, modelSettings, tools, vars, visibility, metadata, status,
                approvalTools, approvalTimeoutSeconds);
    }

    public AgentPatch withVisibility(AgentVisibility v) {
        return new AgentPatch(name, description, instructions, model, modelSettings, tools, variables, v, metadata, status,
                approvalTools, approvalTimeoutSeconds);
    }

    public AgentPatch withModelSettings(ModelSettings settings) {
        return new AgentPatch(name, description, instructions, model, settings, tools, variables, visibility, metadata, status,
                approvalTools, approvalTimeoutSeconds);
    }

    public AgentPatch withTools(List<String> names) {
        return new AgentPatch(name, description, instructions, model, modelSettings, names, variables, visibility, metadata, status,
                approvalTools, approvalTimeoutSeconds);
    }

    public AgentPatch withStatus(AgentStatus s) {
        return new AgentPatch(name, description, instructions, model, modelSettings, tools, variables, visibility, metadata, s,
                approvalTools, approvalTimeoutSeconds);
    }
}
