package dev.parley.examples;

import static dev.parley.examples.cluster.Api.chat;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.examples.cluster.Api;
import dev.parley.examples.cluster.DemoProcess;
import dev.parley.examples.cluster.PrivatePostgres;
import dev.parley.examples.cluster.SseStream;
import dev.parley.testsupport.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two demo servers on one PostgreSQL, one of which executes at most two runs at once
 * ({@code PARLEY_MAX_EXECUTING_RUNS=2}): a burst of 40 runs sent to it completes, the other server
 * executing most of them, with no run lost or executed twice, and the callers (sync and streaming)
 * see nothing but the wait.
 */
class AdmissionIT {
    private static final String SECRET = "a-test-secret-that-is-32-bytes-long!";
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int RUNS = 40;
    private static final int USERS = 10;
    private static final int COUNT = 30;
    private static final Pattern STARTED = Pattern.compile("(?m)^parley_runs_started_total\\{[^}]*\\} ([0-9.E]+)$");
    private static final Pattern DEFERRED = Pattern.compile("(?m)^parley_runs_deferred_total(?:\\{[^}]*\\})? ([0-9.E]+)$");

    @TempDir
    static Path dir;
    private static TestPostgres.Schema schema;
    private static DemoProcess full;
    private static DemoProcess roomy;

    @BeforeAll
    static void startTwoServers() throws Exception {
        schema = TestPostgres.freshSchema("admission");
        Map<String, String> small = environment();
        small.put("PARLEY_MAX_EXECUTING_RUNS", "2");
        full = DemoProcess.start("full", small, dir);
        // room for 8: most of the burst, without every run's writes queueing on the pool of 10 at once
        Map<String, String> larger = environment();
        larger.put("PARLEY_MAX_EXECUTING_RUNS", "8");
        roomy = DemoProcess.start("roomy", larger, dir);
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (DemoProcess server : new DemoProcess[] {full, roomy}) {
            if (server != null) {
                server.close();
            }
        }
        if (schema != null) {
            schema.close();
        }
    }

    private static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>(PrivatePostgres.demoEnvironment(schema.url()));
        env.put("PARLEY_JWT_SECRET", SECRET);
        env.put("PARLEY_DEMO_TOKEN_DELAY_MS", "10");
        env.put("PARLEY_RATE_LIMIT", "0");
        return env;
    }

    /** What one run of the burst came to: whose, its thread, run, final text and the event types its caller saw. */
    private record Outcome(int user, String thread, String run, String status, String text, List<String> events) {}

    @Test
    void should_share_a_burst_on_a_full_server_with_the_other_and_lose_or_repeat_no_run() throws Exception {
        // given: users signed in on the full server
        List<Api> users = new ArrayList<>();
        for (int u = 0; u < USERS; u++) {
            users.add(Api.signIn(full, "burst-" + u));
        }
        String expected = IntStream.rangeClosed(1, COUNT).mapToObj(Integer::toString).collect(Collectors.joining(" "));

        // when 40 runs reach the full server at once, half of them sync, half streamed
        List<Outcome> outcomes = new ArrayList<>();
        ExecutorService callers = Executors.newFixedThreadPool(RUNS);
        try {
            List<Future<Outcome>> calls = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                int user = i % USERS;
                boolean streamed = i % 2 == 0;
                String key = "burst-" + i;
                calls.add(callers.submit(() -> streamed ? streamed(user, users.get(user), key) : sync(user, users.get(user), key)));
            }
            for (Future<Outcome> call : calls) {
                outcomes.add(call.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            callers.shutdownNow();
        }

        // then every run completed once, with the whole answer
        assertThat(outcomes).hasSize(RUNS);
        assertThat(outcomes).extracting(Outcome::run).doesNotHaveDuplicates();
        for (Outcome outcome : outcomes) {
            assertThat(outcome.status()).as("run %s", outcome.run()).isEqualTo("completed");
            assertThat(outcome.text()).as("run %s", outcome.run()).isEqualTo(expected);
            if (!outcome.events().isEmpty()) {
                assertThat(outcome.events()).filteredOn("run_started"::equals).hasSize(1);
                assertThat(outcome.events()).filteredOn("done"::equals).hasSize(1);
            }
            // the stored log, replayed through the other server: one start, one end, one answer in the thread
            Api reader = users.get(outcome.user()).on(roomy);
            try (SseStream replay = reader.stream("GET", "/api/v1/threads/" + outcome.thread() + "/runs/" + outcome.run()
                    + "/events", null, Map.of())) {
                replay.until(WAIT, "done", "error", "cancelled");
                List<String> types = replay.received().stream().map(SseStream.Event::type).toList();
                assertThat(types).filteredOn("run_started"::equals).hasSize(1);
                assertThat(types).last().isEqualTo("done");
            }
            JsonNode messages = reader.get("/api/v1/threads/" + outcome.thread() + "/messages").json().path("data");
            assertThat(messages).hasSize(2);
        }
        // the full server executed at most a few; the other most of them; together each run once
        double onFull = metric(full, STARTED);
        double onRoomy = metric(roomy, STARTED);
        System.out.printf("burst of %d runs on a server with PARLEY_MAX_EXECUTING_RUNS=2: %.0f executed there, %.0f on the other"
                + " (%.0f left queued by the full one; %d requests answered 503 and retried with their idempotency key)%n", RUNS,
                onFull, onRoomy, metric(full, DEFERRED), RETRIED.get());
        assertThat(onFull + onRoomy).isEqualTo(RUNS);
        assertThat(onRoomy).isGreaterThan(RUNS / 2.0);
        assertThat(metric(full, DEFERRED)).isPositive();
        assertThat(withoutRetried503s(full.problems())).isEmpty();
        assertThat(withoutRetried503s(roomy.problems())).isEmpty();
    }

    /** Requests answered 503 (the pool's wait ran out on a loaded machine) and retried, as a client does, with their key. */
    private static final java.util.concurrent.atomic.AtomicInteger RETRIED = new java.util.concurrent.atomic.AtomicInteger();
    private static final int ATTEMPTS = 5;

    private static String withoutRetried503s(String problems) {
        return problems.lines().filter(line -> !line.contains("Store unavailable")).collect(Collectors.joining("\n"));
    }

    private static Outcome sync(int user, Api api, String key) throws Exception {
        Api.Response r = api.post("/api/v1/chat", chat("count to " + COUNT, false, null), Map.of("Idempotency-Key", key));
        for (int attempt = 1; r.status() == 503 && attempt < ATTEMPTS; attempt++) {
            RETRIED.incrementAndGet();
            r = api.post("/api/v1/chat", chat("count to " + COUNT, false, null), Map.of("Idempotency-Key", key));
        }
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode reply = r.json();
        return new Outcome(user, reply.path("thread_id").asText(), reply.path("run_id").asText(), reply.path("status").asText(),
                reply.path("response").asText(), List.of());
    }

    private static Outcome streamed(int user, Api api, String key) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try (SseStream stream = api.stream("POST", "/api/v1/chat", chat("count to " + COUNT, true, null),
                    Map.of("Idempotency-Key", key))) {
                SseStream.Event first = stream.next(WAIT);
                if (first == null && stream.status() == 503 && attempt < ATTEMPTS) {
                    RETRIED.incrementAndGet();
                    continue;
                }
                return streamed(user, stream);
            }
        }
    }

    private static Outcome streamed(int user, SseStream stream) throws Exception {
        SseStream.Event end;
        try {
            end = stream.until(WAIT, "done", "error", "cancelled");
        } catch (AssertionError e) {
            throw new AssertionError("streamed chat answered " + stream.status() + ": " + e.getMessage() + "\nfull server:\n"
                    + full.problems() + "other server:\n" + roomy.problems(), e);
        }
        JsonNode started = stream.received().get(0).data();
        StringBuilder text = new StringBuilder();
        for (SseStream.Event e : stream.received()) {
            if ("token".equals(e.type())) {
                text.append(e.data().path("content").asText());
            }
        }
        return new Outcome(user, started.path("thread_id").asText(), started.path("run_id").asText(),
                "done".equals(end.type()) ? "completed" : end.type(), text.toString(),
                stream.received().stream().map(SseStream.Event::type).toList());
    }

    /** The sum of a metric's series on the server. */
    private static double metric(DemoProcess server, Pattern series) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = series.matcher(r.body());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }
}
