package dev.parley.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.benchmarks.BenchServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The server under test in a JVM of its own (so that its heap and RSS are its own), started from
 * the same jar and Java as the load generator (plus the JVM options in
 * {@code PARLEY_BENCH_SERVER_JVM_ARGS}, e.g. to record it with JFR). Its output goes to a log file;
 * closing it closes its standard input, which stops it.
 */
public final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Map<String, Integer> ports;

    private ServerProcess(Process process, Map<String, Integer> ports) {
        this.process = process;
        this.ports = ports;
    }

    /** Starts a server with {@code jvmArgs} and {@link BenchServer} {@code args}; waits until it listens. */
    public static ServerProcess start(List<String> jvmArgs, List<String> args, Path log) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("java.class.path");
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmArgs);
        String extra = System.getenv("PARLEY_BENCH_SERVER_JVM_ARGS");
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.trim().split("\\s+")));
        }
        command.add("-cp");
        command.add(classpath);
        command.add(BenchServer.class.getName());
        command.addAll(args);
        Files.createDirectories(log.toAbsolutePath().getParent());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Map<String, Integer>> ready = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                 PrintStream file = new PrintStream(Files.newOutputStream(log), true, StandardCharsets.UTF_8)) {
                file.println("# " + String.join(" ", command));
                String line;
                while ((line = out.readLine()) != null) {
                    file.println(line);
                    if (line.startsWith("READY ")) {
                        JsonNode node = Client.JSON.readTree(line.substring(6));
                        Map<String, Integer> ports = new HashMap<>();
                        node.properties().forEach(e -> ports.put(e.getKey(), e.getValue().asInt()));
                        ready.complete(ports);
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(e);
            } finally {
                ready.completeExceptionally(new IOException("the bench server ended before it was ready; see " + log));
            }
        }, "bench-server-output");
        pump.setDaemon(true);
        pump.start();
        try {
            return new ServerProcess(process, ready.get(120, TimeUnit.SECONDS));
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IOException("the bench server did not start: " + e.getMessage() + " (log: " + log + ")", e);
        }
    }

    /** The port of the app on {@code store} ({@code memory}, {@code h2}, {@code postgres}, {@code openai}). */
    public int port(String store) {
        Integer port = ports.get(store);
        if (port == null) {
            throw new IllegalArgumentException("the server has no " + store + " app: " + ports.keySet());
        }
        return port;
    }

    public boolean has(String store) {
        return ports.containsKey(store);
    }

    /** The server process's CPU time so far (user and system, all its threads), in nanoseconds; -1 when unknown. */
    public long cpuNanos() {
        return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
