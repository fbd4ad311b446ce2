package dev.parley.adapter.mcp;

import dev.parley.chat.model.Require;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One MCP server to take tools from: reached over stdio (a command started as a child process, with
 * its arguments and extra environment variables) or over Streamable HTTP (a URL and request headers).
 * Its tools are named {@code <name>_<tool>}; {@code timeout} bounds each call ({@link
 * dev.parley.chat.port.out.Tool#timeout()}). {@code approvalAll} makes every call of its tools wait
 * for a person's approval, {@code approvalTools} only the calls of the tools named there (by their name
 * on the server). Immutable; build one with {@link #stdio} or {@link #http} and the {@code with...} methods.
 */
public record McpServerConfig(String name, String command, List<String> args, Map<String, String> env,
                              URI url, Map<String, String> headers, Duration timeout,
                              boolean approvalAll, Set<String> approvalTools) {
    /** Server names: 1-30 of {@code A-Z a-z 0-9 -}, so that {@code <server>_<tool>} is unambiguous. */
    public static final String NAME_PATTERN = "[A-Za-z0-9-]{1,30}";
    /** The time a call may take unless configured otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    public McpServerConfig {
        Require.notBlank(name, "name");
        Require.that(name.matches(NAME_PATTERN), "MCP server names are 1-30 of A-Z a-z 0-9 -, was '" + name + "'");
        Require.that((command == null) != (url == null), "an MCP server has either a command (stdio) or a url (Streamable HTTP)");
        if (command != null) {
            Require.notBlank(command, "command");
        }
        if (url != null) {
            Require.that(("http".equals(url.getScheme()) || "https".equals(url.getScheme())) && url.getHost() != null,
                    "the url of an MCP server must be http:// or https://, was '" + url + "'");
        }
        args = args == null ? List.of() : List.copyOf(args);
        env = env == null ? Map.of() : Map.copyOf(env);
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
        Require.that(!timeout.isNegative() && !timeout.isZero(), "timeout must be positive");
        approvalTools = approvalTools == null ? Set.of() : Set.copyOf(approvalTools);
    }

    /** A server started as {@code command args...} whose stdin and stdout carry the protocol; {@code env} is added to ours. */
    public static McpServerConfig stdio(String name, String command, List<String> args, Map<String, String> env) {
        return new McpServerConfig(name, command, args, env, null, null, null, false, null);
    }

    /** A server at {@code url} (its MCP endpoint, e.g. {@code http://localhost:3001/mcp}), sent {@code headers} on every request. */
    public static McpServerConfig http(String name, URI url, Map<String, String> headers) {
        return new McpServerConfig(name, null, null, null, url, headers, null, false, null);
    }

    /** Whether the server runs as a child process over stdio (else it is reached over Streamable HTTP). */
    public boolean isStdio() {
        return command != null;
    }

    /** This server with each call bounded by {@code callTimeout}. */
    public McpServerConfig withTimeout(Duration callTimeout) {
        return new McpServerConfig(name, command, args, env, url, headers, callTimeout, approvalAll, approvalTools);
    }

    /** This server with every call of every tool waiting for a person's approval. */
    public McpServerConfig requiringApproval() {
        return new McpServerConfig(name, command, args, env, url, headers, timeout, true, approvalTools);
    }

    /** This server with the calls of the tools named (as the server names them) waiting for a person's approval. */
    public McpServerConfig requiringApprovalOf(Set<String> tools) {
        return new McpServerConfig(name, command, args, env, url, headers, timeout, approvalAll, tools);
    }

    /** Whether calls of the server's tool {@code tool} wait for a person's approval. */
    public boolean requiresApproval(String tool) {
        return approvalAll || approvalTools.contains(tool);
    }

    @Override
    public String toString() {
        // header values and environment values may be secrets: only their names are shown
        Map<String, String> shown = new LinkedHashMap<>();
        shown.put("name", name);
        if (isStdio()) {
            shown.put("command", command + (args.isEmpty() ? "" : " " + String.join(" ", args)));
            shown.put("env", env.keySet().toString());
        } else {
            shown.put("url", url.toString());
            shown.put("headers", headers.keySet().toString());
        }
        shown.put("timeout", timeout.toMillis() + "ms");
        shown.put("approval", approvalAll ? "all" : approvalTools.toString());
        return "McpServerConfig" + shown;
    }
}
