package dev.parley.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.adapter.mcp.McpServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo's MCP servers, from {@code PARLEY_MCP_SERVERS}: a JSON list of
 * {@code {"name", "command", "args", "env"}} (a server started over stdio) or
 * {@code {"name", "url", "headers"}} (Streamable HTTP) objects, each optionally with
 * {@code "timeout_seconds"} (1 to 3600) and {@code "approval"} ({@code true} for all its tools, or a
 * list of its tool names). A bad value is an {@link IllegalArgumentException} naming the variable.
 */
final class DemoMcp {
    static final String VARIABLE = "PARLEY_MCP_SERVERS";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("name", "command", "args", "env", "url", "headers", "timeout_seconds", "approval");

    private DemoMcp() {
    }

    /** The servers {@code PARLEY_MCP_SERVERS} names; empty when it is unset or blank. */
    static List<McpServerConfig> fromEnvironment(Map<String, String> env) {
        String value = env.get(VARIABLE);
        if (value == null || value.isBlank()) {
            return List.of();
        }
        JsonNode list;
        try {
            list = JSON.readTree(value);
        } catch (IOException e) {
            throw bad("it is not JSON");
        }
        if (list == null || !list.isArray()) {
            throw bad("it is not a JSON list");
        }
        List<McpServerConfig> servers = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JsonNode entry : list) {
            McpServerConfig server = server(entry);
            if (!names.add(server.name())) {
                throw bad("two servers are named '" + server.name() + "'");
            }
            servers.add(server);
        }
        return List.copyOf(servers);
    }

    private static McpServerConfig server(JsonNode entry) {
        if (!entry.isObject()) {
            throw bad("an entry is not an object");
        }
        for (Iterator<String> it = entry.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw bad("unknown field '" + field + "'");
            }
        }
        String name = text(entry, "name");
        if (name == null || !name.matches(McpServerConfig.NAME_PATTERN)) {
            throw bad("each server needs a \"name\" of 1-30 of A-Z a-z 0-9 -");
        }
        String command = text(entry, "command");
        String url = text(entry, "url");
        if ((command == null) == (url == null)) {
            throw bad("the server '" + name + "' needs either a \"command\" (stdio) or a \"url\" (Streamable HTTP)");
        }
        McpServerConfig server;
        if (command != null) {
            if (entry.has("headers")) {
                throw bad("the server '" + name + "' is started with a command: \"headers\" are for a \"url\"");
            }
            server = McpServerConfig.stdio(name, command, strings(entry, "args", name), map(entry, "env", name));
        } else {
            if (entry.has("args") || entry.has("env")) {
                throw bad("the server '" + name + "' is reached at a url: \"args\" and \"env\" are for a \"command\"");
            }
            server = McpServerConfig.http(name, httpUrl(url, name), map(entry, "headers", name));
        }
        JsonNode timeout = entry.get("timeout_seconds");
        if (timeout != null) {
            if (!timeout.canConvertToInt() || !timeout.isIntegralNumber() || timeout.asInt() < 1 || timeout.asInt() > 3600) {
                throw bad("\"timeout_seconds\" of the server '" + name + "' must be a whole number from 1 to 3600");
            }
            server = server.withTimeout(Duration.ofSeconds(timeout.asInt()));
        }
        JsonNode approval = entry.get("approval");
        if (approval != null) {
            if (approval.isBoolean()) {
                server = approval.asBoolean() ? server.requiringApproval() : server;
            } else if (approval.isArray()) {
                server = server.requiringApprovalOf(Set.copyOf(strings(entry, "approval", name)));
            } else {
                throw bad("\"approval\" of the server '" + name + "' must be true, false or a list of its tool names");
            }
        }
        return server;
    }

    private static String text(JsonNode entry, String field) {
        JsonNode node = entry.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw bad("\"" + field + "\" must be a non-empty string");
        }
        return node.asText();
    }

    private static List<String> strings(JsonNode entry, String field, String name) {
        JsonNode node = entry.get(field);
        if (node == null || node.isNull()) {
            return List.of();
        }
        List<String> values = new ArrayList<>();
        if (node.isArray()) {
            for (JsonNode value : node) {
                if (!value.isTextual()) {
                    node = null;
                    break;
                }
                values.add(value.asText());
            }
        }
        if (node == null || !node.isArray()) {
            throw bad("\"" + field + "\" of the server '" + name + "' must be a list of strings");
        }
        return values;
    }

    private static Map<String, String> map(JsonNode entry, String field, String name) {
        JsonNode node = entry.get(field);
        if (node == null || node.isNull()) {
            return Map.of();
        }
        Map<String, String> values = new LinkedHashMap<>();
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    throw bad("\"" + field + "\" of the server '" + name + "' must be an object of strings");
                }
                values.put(e.getKey(), e.getValue().asText());
            }
            return values;
        }
        throw bad("\"" + field + "\" of the server '" + name + "' must be an object of strings");
    }

    private static URI httpUrl(String url, String name) {
        try {
            URI uri = new URI(url);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw bad("the url of the server '" + name + "' must be an http:// or https:// URL");
    }

    private static IllegalArgumentException bad(String why) {
        // the value itself is not repeated: it may hold secrets (headers, environment)
        return new IllegalArgumentException(VARIABLE + " must be a JSON list of {\"name\", \"command\", \"args\", \"env\"} or"
                + " {\"name\", \"url\", \"headers\"} objects: " + why);
    }
}
