package dev.parley.adapter.mcp;

import io.modelcontextprotocol.json.McpJsonMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/** The stdio transport over a child process: its stdout and stdin carry the protocol, its stderr is logged at debug level. */
final class ProcessClientTransport extends StreamClientTransport {
    private static final Logger log = LoggerFactory.getLogger(ProcessClientTransport.class);

    private final String serverName;
    private final Process process;

    private ProcessClientTransport(String serverName, McpJsonMapper json, Process process, Consumer<String> onEnd) {
        super(serverName, json, process.getInputStream(), process.getOutputStream(), onEnd);
        this.serverName = serverName;
        this.process = process;
    }

    /** Starts the server's process; an {@link IOException} when it cannot be started (no such command). */
    static ProcessClientTransport start(McpServerConfig config, McpJsonMapper json, Consumer<String> onEnd) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(config.command());
        command.addAll(config.args());
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(config.env());
        Process process = builder.start();
        Thread stderr = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    log.debug("MCP server {} (stderr): {}", config.name(), line);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        }, "parley-mcp-" + config.name() + "-stderr");
        stderr.setDaemon(true);
        stderr.start();
        return new ProcessClientTransport(config.name(), json, process, onEnd);
    }

    @Override
    void ended(String reason) {
        String why = reason;
        try {
            if (!isClosed() && process.waitFor(1, TimeUnit.SECONDS)) {
                why = "the MCP server '" + serverName + "' exited with code " + process.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        super.ended(why);
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.fromRunnable(this::closeNow);
    }

    @Override
    void closeNow() {
        super.closeNow();
        // stdin closed is the polite stop; a server that does not exit soon is stopped
        process.onExit().orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> {
            process.destroy();
            return process;
        });
        process.toHandle().descendants().forEach(ProcessHandle::destroy);
    }
}
