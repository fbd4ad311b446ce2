package dev.parley.examples.cluster;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged demo server ({@code parley-demo.jar}) running as a process of its own, its output in
 * a log file. {@link #kill()} is {@code kill -9}.
 */
public final class DemoProcess implements AutoCloseable {
    private static final Duration START_DEADLINE = Duration.ofSeconds(90);

    private final String name;
    private final Process process;
    private final Path log;
    private final int port;

    private DemoProcess(String name, Process process, Path log, int port) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts the jar with {@code env} (and a free port) and returns once it serves requests. */
    public static DemoProcess start(String name, Map<String, String> env, Path dir) throws IOException, InterruptedException {
        return start(name, env, dir, List.of());
    }

    /** {@link #start(String, Map, Path)} with more options for the JVM (before {@code -jar}). */
    public static DemoProcess start(String name, Map<String, String> env, Path dir, List<String> jvmOptions)
            throws IOException, InterruptedException {
        // a free port can be taken by another process before the server binds it: then start again on another
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(name, env, dir, jvmOptions);
            } catch (PortTaken e) {
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    /** The server could not bind the free port it was given: another process took it first. */
    private static final class PortTaken extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PortTaken(String message) {
            super(message);
        }
    }

    private static DemoProcess startOnce(String name, Map<String, String> env, Path dir, List<String> jvmOptions)
            throws IOException, InterruptedException {
        int port = freePort();
        Path log = dir.resolve(name + ".log");
        Path jar = Path.of(System.getProperty("parley.demo.jar", "target/parley-demo.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the packaged demo is missing (mvn package builds it): " + jar);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar.toAbsolutePath().toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("PARLEY_") || k.startsWith("OPENAI_"));
        Map<String, String> all = new HashMap<>(env);
        all.put("PARLEY_PORT", Integer.toString(port));
        builder.environment().putAll(all);
        DemoProcess demo = new DemoProcess(name, builder.start(), log, port);
        demo.awaitRunning();
        return demo;
    }

    private void awaitRunning() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String log = log();
                String message = name + " exited with " + process.exitValue() + ":\n" + log;
                throw log.contains("Address already in use") ? new PortTaken(message) : new IllegalStateException(message);
            }
            if (log().contains("Parley demo is running") && health() == 200) {
                return;
            }
            try {
                process.onExit().get(100, TimeUnit.MILLISECONDS); // wakes at once if the process dies
            } catch (TimeoutException | java.util.concurrent.ExecutionException stillRunning) {
                // look again
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException(name + " did not start within " + START_DEADLINE + ":\n" + log());
    }

    private int health() {
        try {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
            return http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/health")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public String name() {
        return name;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** The server's log lines that are warnings or errors (stack frames left out), for a failing test to show. */
    public String problems() {
        try {
            StringBuilder out = new StringBuilder();
            for (String line : log().split("\n")) {
                if ((line.contains("[WARN]") || line.contains("[ERROR]") || line.startsWith("WARNING"))
                        && !line.contains("SqlErrors") && !line.contains("PoolBase") && !line.contains("ProxyConnection")) {
                    out.append(line).append('\n');
                }
            }
            return out.toString();
        } catch (IOException e) {
            return "(the log of " + name + " could not be read: " + e + ")";
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The instance id its chat service logged at start (the owner of the runs it executes). */
    public String instanceId() throws IOException {
        Matcher m = Pattern.compile("chat service (\\S+) started").matcher(log());
        if (!m.find()) {
            throw new IllegalStateException(name + " logged no instance id");
        }
        return m.group(1);
    }

    /** {@code kill -STOP}: the process stands still, its connections open, until {@link #resume()}. */
    public void pause() throws IOException, InterruptedException {
        signal("-STOP");
    }

    /** {@code kill -CONT}: a paused process goes on. */
    public void resume() throws IOException, InterruptedException {
        signal("-CONT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill " + signal + " of " + name + " failed");
        }
    }

    /** {@code kill -9}: the process gets no chance to end anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " survived kill -9");
        }
    }

    /** Stops the process (SIGTERM, then SIGKILL after 30 s). */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
