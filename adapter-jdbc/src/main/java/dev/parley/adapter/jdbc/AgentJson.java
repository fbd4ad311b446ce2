package dev.parley.adapter.jdbc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentVariable;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ReasoningEffort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An agent version's definition as one JSON document, with the field names of the HTTP contract. */
final class AgentJson {
    private static final ObjectMapper MAPPER = Json.MAPPER;

    private AgentJson() {}

    static String write(AgentDefinition d) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("name", d.name());
        n.put("description", d.description());
        n.put("instructions", d.instructions());
        n.put("model", d.model());
        ObjectNode s = n.putObject("model_settings");
        ModelSettings settings = d.modelSettings();
        if (settings.temperature() != null) {
            s.put("temperature", settings.temperature());
        }
        if (settings.maxOutputTokens() != null) {
            s.put("max_output_tokens", settings.maxOutputTokens());
        }
        if (settings.reasoningEffort() != null) {
            s.put("reasoning_effort", settings.reasoningEffort().wireName());
        }
        ArrayNode tools = n.putArray("tools");
        d.tools().forEach(tools::add);
        ArrayNode vars = n.putArray("variables");
        for (AgentVariable v : d.variables()) {
            vars.addObject().put("name", v.name()).put("description", v.description()).put("required", v.required())
                    .put("default", v.defaultValue());
        }
        ArrayNode approvals = n.putArray("approval_tools");
        d.approvalTools().forEach(approvals::add);
        if (d.approvalTimeoutSeconds() != null) {
            n.put("approval_timeout_seconds", d.approvalTimeoutSeconds());
        }
        n.put("visibility", d.visibility().wireName());
        ObjectNode meta = n.putObject("metadata");
        d.metadata().forEach(meta::put);
        try {
            return Text.putJson(MAPPER.writeValueAsString(n));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    static AgentDefinition read(String stored) {
        JsonNode n;
        try {
            n = MAPPER.readTree(Text.getJson(stored));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored agent definition is unreadable", e);
        }
        JsonNode s = n.path("model_settings");
        ModelSettings settings = new ModelSettings(
                s.hasNonNull("temperature") ? s.get("temperature").asDouble() : null,
                s.hasNonNull("max_output_tokens") ? s.get("max_output_tokens").asInt() : null,
                s.hasNonNull("reasoning_effort") ? Json.wire(ReasoningEffort.class, s.get("reasoning_effort").asText()) : null);
        List<String> tools = new ArrayList<>();
        n.path("tools").forEach(t -> tools.add(t.asText()));
        List<AgentVariable> vars = new ArrayList<>();
        for (JsonNode v : n.path("variables")) {
            vars.add(new AgentVariable(v.path("name").asText(), text(v, "description"), v.path("required").asBoolean(),
                    text(v, "default")));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : n.path("metadata").properties()) {
            meta.put(e.getKey(), e.getValue().asText());
        }
        List<String> approvals = new ArrayList<>();
        n.path("approval_tools").forEach(t -> approvals.add(t.asText()));
        Integer timeout = n.hasNonNull("approval_timeout_seconds") ? n.get("approval_timeout_seconds").asInt() : null;
        return new AgentDefinition(text(n, "name"), text(n, "description"), text(n, "instructions"), text(n, "model"), settings,
                tools, vars, Json.wire(AgentVisibility.class, n.path("visibility").asText()), meta, approvals, timeout);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}
