package dev.parley.adapter.mcp;

import dev.parley.chat.port.out.Tool;
import dev.parley.chat.port.out.ToolContext;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * One tool of an MCP server as a Parley tool: named {@code <server>_<tool>}, described and shaped as
 * the server last listed it (so a {@code tools/list_changed} refresh shows), called through its
 * server's connection. Thread-safe.
 */
final class McpTool implements Tool {
    private static final Pattern NOT_ALLOWED = Pattern.compile("[^A-Za-z0-9_-]");
    static final int MAX_NAME = 64;

    private final McpConnection connection;
    private final String mcpName;
    private final String name;
    private volatile McpSchema.Tool definition;
    private volatile String schema;

    McpTool(McpConnection connection, McpSchema.Tool definition) {
        this.connection = connection;
        this.mcpName = definition.name();
        this.name = parleyName(connection.config().name(), definition.name());
        define(definition);
    }

    /** {@code <server>_<tool>}, with what a Parley tool name may not hold turned into {@code _}, at most 64 characters. */
    static String parleyName(String server, String tool) {
        String name = server + "_" + NOT_ALLOWED.matcher(tool).replaceAll("_");
        return name.length() <= MAX_NAME ? name : name.substring(0, MAX_NAME);
    }

    void define(McpSchema.Tool newDefinition) {
        this.schema = connection.schemaJson(newDefinition.inputSchema());
        this.definition = newDefinition;
    }

    String mcpName() {
        return mcpName;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        McpSchema.Tool d = definition;
        if (d.description() != null && !d.description().isBlank()) {
            return d.description();
        }
        return d.title() == null ? "" : d.title();
    }

    @Override
    public String parametersSchema() {
        return schema;
    }

    @Override
    public Duration timeout() {
        return connection.config().timeout();
    }

    @Override
    public boolean requiresApproval() {
        return connection.config().requiresApproval(mcpName);
    }

    @Override
    public String execute(ToolContext context) throws Exception {
        return connection.call(this, context, timeout());
    }

    @Override
    public String toString() {
        return "McpTool[" + name + "]";
    }
}
