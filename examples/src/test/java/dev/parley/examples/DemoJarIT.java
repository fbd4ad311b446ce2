package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the packaged demo, {@code examples/target/parley-demo.jar}, as its own process on an H2
 * file database, talks HTTP to it, restarts it and finds the history still there.
 */
class DemoJarIT {
    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final String SECRET = "a-test-secret-that-is-32-bytes-long!";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    @Test
    void should_serve_the_page_and_api_and_keep_the_history_across_a_restart() throws Exception {
        // given: the jar on an H2 file database in a fresh directory
        String dbUrl = "jdbc:h2:file:" + dir.resolve("db/parley").toAbsolutePath();
        Map<String, String> env = Map.of("PARLEY_DB_URL", dbUrl, "PARLEY_JWT_SECRET", SECRET,
                "PARLEY_DEMO_TOKEN_DELAY_MS", "1");
        int port = freePort();
        Process first = start(env, port, "first.log");
        String base = "http://localhost:" + port;

        // then it logs the URL to open and serves the page
        assertThat(Files.readString(dir.resolve("first.log"))).contains("open http://localhost:" + port + "/");
        HttpResponse<String> page = get(base + "/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>Parley demo</title>");

        // when: a user signs in and chats, with a tool call and a stream
        String token = login(base, "carol");
        JsonNode calc = json(post(base + "/api/v1/chat", token, "{\"message\": \"calculate 6*7\"}", "application/json"));
        assertThat(calc.path("response").asText()).isEqualTo("6*7 = 42");
        assertThat(calc.path("tool_calls").get(0).path("name").asText()).isEqualTo("calculator");
        assertThat(calc.path("cost_usd").isNumber()).isTrue();
        String thread = calc.path("thread_id").asText();

        HttpResponse<String> stream = post(base + "/api/v1/threads/" + thread + "/chat", token,
                "{\"message\": \"count to 5\", \"stream\": true}", "text/event-stream");
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(tokens(stream.body())).isEqualTo("1 2 3 4 5");
        assertThat(stream.body()).contains("event: done");

        // and the server is stopped and started again on the same database
        stop(first);
        int secondPort = freePort();
        Map<String, String> secondEnv = new HashMap<>(env);
        secondEnv.put("PARLEY_DEV_LOGIN", "false");
        start(secondEnv, secondPort, "second.log");
        String secondBase = "http://localhost:" + secondPort;

        // then the thread and its history are still there (the token too: same secret)
        JsonNode threads = json(get(secondBase + "/api/v1/threads", token));
        assertThat(threads.path("data")).extracting(t -> t.path("id").asText()).contains(thread);
        JsonNode messages = json(get(secondBase + "/api/v1/threads/" + thread + "/messages?limit=100", token));
        List<String> texts = new ArrayList<>();
        for (JsonNode m : messages.path("data")) {
            texts.add(m.path("role").asText() + ": " + text(m));
        }
        assertThat(texts).containsSubsequence("user: calculate 6*7", "assistant: 6*7 = 42", "user: count to 5",
                "assistant: 1 2 3 4 5");

        // and with PARLEY_DEV_LOGIN=false there is no login endpoint
        HttpResponse<String> noLogin = post(secondBase + "/dev/login", null, "{\"user\": \"mallory\"}", "application/json");
        assertThat(noLogin.statusCode()).isEqualTo(404);
    }

    @Test
    void should_refuse_to_start_with_a_bad_setting_and_say_which() throws Exception {
        // when
        Process process = launch(Map.of("PARLEY_PORT", "not-a-port"), "bad.log");
        boolean exited = process.waitFor(START_DEADLINE.toSeconds(), TimeUnit.SECONDS);

        // then
        assertThat(exited).isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readString(dir.resolve("bad.log")))
                .contains("PARLEY_PORT must be a whole number from 0 to 65535, was 'not-a-port'");
    }

    // ------------------------------------------------------------------ helpers

    private Process start(Map<String, String> env, int port, String log) throws Exception {
        Map<String, String> withPort = new HashMap<>(env);
        withPort.put("PARLEY_PORT", Integer.toString(port));
        Process process = launch(withPort, log);
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the demo exited with " + process.exitValue() + ":\n" + Files.readString(dir.resolve(log)));
            }
            if (Files.readString(dir.resolve(log)).contains("Parley demo is running")) {
                assertThat(get("http://localhost:" + port + "/health", null).statusCode()).isEqualTo(200);
                return process;
            }
            try {
                process.onExit().get(100, TimeUnit.MILLISECONDS); // wakes at once if the process dies
            } catch (TimeoutException stillRunning) {
                // look at the log again
            }
        }
        throw new AssertionError("the demo did not start within " + START_DEADLINE + ":\n" + Files.readString(dir.resolve(log)));
    }

    private Process launch(Map<String, String> env, String log) throws IOException {
        Path jar = Path.of(System.getProperty("parley.demo.jar", "target/parley-demo.jar"));
        assertThat(jar).as("the packaged demo (mvn package builds it)").isRegularFile();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-jar", jar.toAbsolutePath().toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve(log).toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("PARLEY_") || k.startsWith("OPENAI_"));
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    private static void stop(Process process) throws InterruptedException {
        process.destroy();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
    }

    private String login(String base, String user) throws Exception {
        HttpResponse<String> response = post(base + "/dev/login", null, "{\"user\": \"" + user + "\"}", "application/json");
        assertThat(response.statusCode()).isEqualTo(200);
        return json(response).path("token").asText();
    }

    private HttpResponse<String> get(String url, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> post(String url, String token, String body, String accept)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .header("Accept", accept)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static JsonNode json(HttpResponse<String> response) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isBetween(200, 299);
        return JSON.readTree(response.body());
    }

    private static String text(JsonNode message) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : message.path("content")) {
            text.append(part.path("text").asText(""));
        }
        return text.toString();
    }

    private static String tokens(String sse) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data:")) {
                JsonNode event = JSON.readTree(line.substring(5).strip());
                if ("token".equals(event.path("type").asText())) {
                    text.append(event.path("content").asText());
                }
            }
        }
        return text.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
