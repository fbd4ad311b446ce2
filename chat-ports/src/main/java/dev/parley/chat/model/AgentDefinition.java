package dev.parley.chat.model;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a user writes of a stored agent (one version of it): name, description, instruction
 * template, model (null for the server's default), model settings, the names of the registry's
 * tools it may call, declared variables, visibility and metadata; which of its tools need a person's
 * approval of each call beyond those that need it by themselves ({@code approvalTools}, a subset of
 * {@code tools}), and how long a call waits for that approval ({@code approvalTimeoutSeconds}, null
 * for the default of a day).
 *
 * <p>Validated whole in the constructor: every broken rule becomes one {@link FieldError}, all of
 * them thrown together as an {@link InvalidRequestException} ({@code validation_failed}). Field
 * names are those of the wire ({@code name}, {@code tools[2].name}, {@code variables[0].default},
 * {@code instructions}...). Lengths count Unicode code points; NUL and lone surrogates are refused
 * in every text. Whether the named tools exist is the registry's business, not this record's.
 */
public record AgentDefinition(String name, String description, String instructions, String model,
                              ModelSettings modelSettings, List<String> tools, List<AgentVariable> variables,
                              AgentVisibility visibility, Map<String, String> metadata, List<String> approvalTools,
                              Integer approvalTimeoutSeconds) {
    public static final int MAX_NAME = 200;
    public static final int MAX_DESCRIPTION = 2_000;
    public static final int MAX_INSTRUCTIONS = 100_000;
    public static final int MAX_MODEL = 200;
    public static final int MAX_TOOLS = 128;
    public static final int MAX_VARIABLES = 64;
    public static final int MAX_VARIABLE_TEXT = 2_000;
    public static final int MAX_METADATA_KEYS = 16;
    public static final int MAX_METADATA_KEY = 64;
    public static final int MAX_METADATA_VALUE = 512;
    /** Longest approval timeout an agent may set: 30 days. */
    public static final int MAX_APPROVAL_TIMEOUT_SECONDS = 30 * 86_400;

    public AgentDefinition {
        description = description == null ? "" : description;
        instructions = instructions == null ? "" : instructions;
        modelSettings = modelSettings == null ? ModelSettings.DEFAULT : modelSettings;
        tools = tools == null ? List.of() : List.copyOf(tools);
        variables = variables == null ? List.of() : List.copyOf(variables);
        visibility = visibility == null ? AgentVisibility.PRIVATE : visibility;
        metadata = metadata == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(metadata));
        approvalTools = approvalTools == null ? List.of() : List.copyOf(approvalTools);
        List<FieldError> errors = new ArrayList<>();
        if (text(errors, "name", name, MAX_NAME) && name.isBlank()) {
            errors.add(new FieldError("name", "must not be blank"));
        }
        text(errors, "description", description, MAX_DESCRIPTION);
        if (model != null && text(errors, "model", model, MAX_MODEL) && model.isBlank()) {
            errors.add(new FieldError("model", "must not be blank (leave it out for the default model)"));
        }
        checkTools(errors, tools);
        for (String tool : approvalTools) {
            if (!tools.contains(tool)) {
                errors.add(new FieldError("tools", "requires approval of " + tool + ", which is not one of its tools"));
            }
        }
        if (approvalTimeoutSeconds != null && (approvalTimeoutSeconds < 1 || approvalTimeoutSeconds > MAX_APPROVAL_TIMEOUT_SECONDS)) {
            errors.add(new FieldError("approval_timeout_seconds", "must be from 1 to " + MAX_APPROVAL_TIMEOUT_SECONDS));
        }
        Set<String> declared = checkVariables(errors, variables);
        if (text(errors, "instructions", instructions, MAX_INSTRUCTIONS)) {
            checkTemplate(errors, instructions, declared);
        }
        checkMetadata(errors, metadata);
        if (!errors.isEmpty()) {
            throw new InvalidRequestException(InvalidRequestException.Reason.VALIDATION_FAILED, summary(errors), errors);
        }
    }

    /** A definition whose tools need no approval beyond their own, with the default approval timeout. */
    public AgentDefinition(String name, String description, String instructions, String model, ModelSettings modelSettings,
                           List<String> tools, List<AgentVariable> variables, AgentVisibility visibility, Map<String, String> metadata) {
        this(name, description, instructions, model, modelSettings, tools, variables, visibility, metadata, List.of(), null);
    }

    /** This definition with {@code approvals} (tool names) needing approval and {@code timeoutSeconds} (null: default). */
    public AgentDefinition withApprovals(List<String> approvals, Integer timeoutSeconds) {
        return new AgentDefinition(name, description, instructions, model, modelSettings, tools, variables, visibility, metadata,
                approvals, timeoutSeconds);
    }

    /** The parsed instruction template (already checked when this record was made). */
    public InstructionTemplate template() {
        return InstructionTemplate.parse(instructions);
    }

    private static void checkTools(List<FieldError> errors, List<String> tools) {
        if (tools.size() > MAX_TOOLS) {
            errors.add(new FieldError("tools", "must have at most " + MAX_TOOLS + " entries"));
            return;
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            String tool = tools.get(i);
            String field = "tools[" + i + "].name";
            if (tool == null || !ToolSpec.NAME.matcher(tool).matches()) {
                errors.add(new FieldError(field, "must be 1-64 of A-Z a-z 0-9 _ -"));
            } else if (!seen.add(tool)) {
                errors.add(new FieldError(field, "names a tool twice"));
            }
        }
    }

    private static Set<String> checkVariables(List<FieldError> errors, List<AgentVariable> variables) {
        Set<String> names = new HashSet<>();
        if (variables.size() > MAX_VARIABLES) {
            errors.add(new FieldError("variables", "must have at most " + MAX_VARIABLES + " entries"));
            return names;
        }
        for (int i = 0; i < variables.size(); i++) {
            AgentVariable v = variables.get(i);
            String at = "variables[" + i + "]";
            if (v == null) {
                errors.add(new FieldError(at, "must not be null"));
                continue;
            }
            if (!InstructionTemplate.isName(v.name())) {
                errors.add(new FieldError(at + ".name", "must be 1-64 of A-Z a-z 0-9 _, not starting with a digit"));
            } else if (InstructionTemplate.BUILT_IN_NAMES.contains(v.name())) {
                errors.add(new FieldError(at + ".name", "is a built-in name"));
            } else if (!names.add(v.name())) {
                errors.add(new FieldError(at + ".name", "is declared twice"));
            }
            text(errors, at + ".description", v.description(), MAX_VARIABLE_TEXT);
            if (v.defaultValue() != null) {
                text(errors, at + ".default", v.defaultValue(), MAX_VARIABLE_TEXT);
            }
        }
        return names;
    }

    private static void checkTemplate(List<FieldError> errors, String instructions, Set<String> declared) {
        InstructionTemplate template;
        try {
            template = InstructionTemplate.parse(instructions);
        } catch (InvalidRequestException e) {
            errors.addAll(e.errors());
            return;
        }
        for (String used : template.names()) {
            if (!declared.contains(used) && !InstructionTemplate.BUILT_IN_NAMES.contains(used)) {
                errors.add(new FieldError("instructions", "uses {{" + used + "}}, which is neither declared in variables nor built in"));
            }
        }
    }

    private static void checkMetadata(List<FieldError> errors, Map<String, String> metadata) {
        if (metadata.size() > MAX_METADATA_KEYS) {
            errors.add(new FieldError("metadata", "must have at most " + MAX_METADATA_KEYS + " keys"));
            return;
        }
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (text(errors, "metadata", e.getKey(), MAX_METADATA_KEY) && e.getKey().isEmpty()) {
                errors.add(new FieldError("metadata", "keys must not be empty"));
            }
            text(errors, "metadata." + e.getKey(), e.getValue(), MAX_METADATA_VALUE);
        }
    }

    /** Checks a text for null, NUL, lone surrogates and length; true when it is fine so far. */
    static boolean text(List<FieldError> errors, String field, String value, int maxCodePoints) {
        if (value == null) {
            errors.add(new FieldError(field, "is required"));
            return false;
        }
        int codePoints = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\0') {
                errors.add(new FieldError(field, "must not contain U+0000"));
                return false;
            }
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                errors.add(new FieldError(field, "must not contain a lone surrogate"));
                return false;
            }
            codePoints++;
        }
        if (codePoints > maxCodePoints) {
            errors.add(new FieldError(field, "must be at most " + maxCodePoints + " characters"));
            return false;
        }
        return true;
    }

    private static String summary(List<FieldError> errors) {
        StringBuilder s = new StringBuilder("Invalid agent: ");
        for (int i = 0; i < errors.size() && i < 5; i++) {
            s.append(i == 0 ? "" : "; ").append(errors.get(i).field()).append(' ').append(errors.get(i).message());
        }
        return s.toString();
    }
}
