package dev.parley.examples;

import static dev.parley.examples.cluster.Api.chat;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.examples.cluster.Api;
import dev.parley.examples.cluster.DemoProcess;
import dev.parley.examples.cluster.PrivatePostgres;
import dev.parley.examples.cluster.SseStream;
import dev.parley.testsupport.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two demo servers, each a process of its own, on one PostgreSQL (a schema of this class's own),
 * sharing a JWT secret as servers behind a load balancer do: a run executing on one is cancelled,
 * followed and resumed through the other; {@code if_busy} and idempotency keys hold across them;
 * and when a server is killed ({@code kill -9}) while it streams, the other ends its run.
 */
class MultiServerIT {
    private static final String SECRET = "a-test-secret-that-is-32-bytes-long!";
    private static final int LEASE_SECONDS = 2;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int CANCEL_TRIES = 50;

    @TempDir
    static Path dir;
    private static TestPostgres.Schema schema;
    private static DemoProcess serverA;
    private static DemoProcess serverB;

    @BeforeAll
    static void startTwoServers() throws Exception {
        schema = TestPostgres.freshSchema("multi_server");
        serverA = DemoProcess.start("server-a", environment(), dir);
        serverB = DemoProcess.start("server-b", environment(), dir);
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (DemoProcess server : new DemoProcess[] {serverA, serverB}) {
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
        env.put("PARLEY_RUN_LEASE_SECONDS", Integer.toString(LEASE_SECONDS));
        env.put("PARLEY_DEMO_TOKEN_DELAY_MS", "10");
        env.put("PARLEY_RATE_LIMIT", "0");
        return env;
    }

    @Test
    void should_cancel_through_one_server_a_run_streaming_on_the_other() throws Exception {
        // given
        Api onA = Api.signIn(serverA, "carol");
        Api onB = onA.on(serverB);
        List<Long> untilAnswered = new ArrayList<>();
        List<Long> untilStreamEnded = new ArrayList<>();

        // the first try (i = -1) warms both servers' cancel paths up and is not measured
        for (int i = -1; i < CANCEL_TRIES; i++) {
            try (SseStream stream = onA.stream("POST", "/api/v1/chat", chat("count to 5000", true, null), Map.of())) {
                JsonNode started = stream.until(WAIT, "run_started").data();
                stream.until(WAIT, "token");
                String run = "/api/v1/threads/" + started.path("thread_id").asText() + "/runs/" + started.path("run_id").asText();

                // when server B is asked to cancel it
                long sent = System.nanoTime();
                Api.Response answer = onB.post(run + "/cancel", "{}", Map.of());
                long answered = System.nanoTime();

                // then B answers once server A stopped the run, kept its partial text and ended its stream
                assertThat(answer.status()).as(answer.body()).isEqualTo(200);
                assertThat(answer.json().path("status").asText()).isEqualTo("cancelled");
                SseStream.Event cancelled = stream.until(WAIT, "cancelled");
                assertThat(cancelled.data().path("message_id").isTextual())
                        .as("the server running it kept the partial answer").isTrue();
                if (i >= 0) {
                    untilAnswered.add(answered - sent);
                    untilStreamEnded.add(cancelled.arrivedNanos() - sent);
                }
            }
        }

        System.out.printf("cross-server cancel, %d tries: cancel request on B -> 200 cancelled: p50 %d ms, p99 %d ms, max %d ms;"
                        + " -> cancelled event on A's stream: p50 %d ms, p99 %d ms%n", CANCEL_TRIES,
                percentile(untilAnswered, 50), percentile(untilAnswered, 99), percentile(untilAnswered, 100),
                percentile(untilStreamEnded, 50), percentile(untilStreamEnded, 99));
        // a generous bound: far below the 10 s after which a server gives up waiting for the other
        assertThat(percentile(untilAnswered, 100)).isLessThan(5_000);
    }

    @Test
    void should_follow_through_one_server_a_run_streaming_on_the_other_and_resume_after_a_disconnect() throws Exception {
        // given a run streaming on server A
        Api onA = Api.signIn(serverA, "dave");
        Api onB = onA.on(serverB);
        try (SseStream onServerA = onA.stream("POST", "/api/v1/chat", chat("count to 300", true, null), Map.of())) {
            JsonNode started = onServerA.until(WAIT, "run_started").data();
            String run = "/api/v1/threads/" + started.path("thread_id").asText() + "/runs/" + started.path("run_id").asText();

            // when a client follows it through server B, live, and drops out
            List<SseStream.Event> before;
            try (SseStream first = onB.stream("GET", run + "/events", null, Map.of())) {
                while (first.received().size() < 20) {
                    first.next(WAIT);
                }
                assertThat(onB.get(run).json().path("status").asText()).as("still running while followed").isEqualTo("in_progress");
                before = first.received();
            }
            long lastSeen = before.get(before.size() - 1).id();

            // and comes back with Last-Event-ID
            List<SseStream.Event> after;
            try (SseStream resumed = onB.stream("GET", run + "/events", null, Map.of("Last-Event-ID", Long.toString(lastSeen)))) {
                resumed.until(WAIT, "done");
                after = resumed.received();
            }

            // then it got every event once, in order, and the whole answer
            List<SseStream.Event> all = new ArrayList<>(before);
            all.addAll(after);
            assertThat(all).extracting(SseStream.Event::id)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, all.size()).boxed().toList());
            assertThat(tokens(all)).isEqualTo(countTo(300));
            onServerA.until(WAIT, "done");
            assertThat(onServerA.text()).isEqualTo(countTo(300));
        }
    }

    @Test
    void should_hold_if_busy_across_servers_and_run_queued_messages_in_the_order_they_came() throws Exception {
        // given a run streaming on server A
        Api onA = Api.signIn(serverA, "erin");
        Api onB = onA.on(serverB);
        try (SseStream running = onA.stream("POST", "/api/v1/chat", chat("count to 5000", true, null), Map.of())) {
            JsonNode started = running.until(WAIT, "run_started").data();
            String thread = "/api/v1/threads/" + started.path("thread_id").asText();

            // when server B is sent a message for the same thread
            Api.Response rejected = onB.post(thread + "/chat", chat("hello", false, "reject"), Map.of());

            // then the database says the thread is busy
            assertThat(rejected.status()).as(rejected.body()).isEqualTo(409);
            assertThat(rejected.code()).isEqualTo("run_in_progress");

            // and when messages are queued on B, then on A, and the running one is cancelled
            try (SseStream second = onB.stream("POST", thread + "/chat", chat("second", true, "enqueue"), Map.of())) {
                await(() -> onB.get(thread + "/runs").json().path("data").size() == 2, "the second run is queued");
                try (SseStream third = onA.stream("POST", thread + "/chat", chat("third", true, "enqueue"), Map.of())) {
                    await(() -> onA.get(thread + "/runs").json().path("data").size() == 3, "the third run is queued");
                    assertThat(onB.post(thread + "/runs/" + started.path("run_id").asText() + "/cancel", "{}", Map.of()).status())
                            .isEqualTo(200);

                    // then they run one after the other, in the order they came
                    second.until(WAIT, "done");
                    third.until(WAIT, "done");
                }
            }
            JsonNode runs = onA.get(thread + "/runs").json().path("data"); // newest first
            assertThat(runs).extracting(r -> r.path("status").asText()).containsExactly("completed", "completed", "cancelled");
            Instant secondEnded = Instant.parse(runs.get(1).path("completed_at").asText());
            Instant thirdStarted = Instant.parse(runs.get(0).path("started_at").asText());
            assertThat(thirdStarted).isAfterOrEqualTo(secondEnded);
            // (a queued message is stored when it is sent; its answer when its run ends)
            List<String> history = texts(onB.get(thread + "/messages?limit=100").json());
            assertThat(history).hasSize(6);
            assertThat(history.subList(0, 3)).containsExactly("count to 5000", "second", "third");
            assertThat(countTo(5000)).startsWith(history.get(3));
            assertThat(history.subList(4, 6)).containsExactly("You said: \"second\" (1 word).", "You said: \"third\" (1 word).");
        }
    }

    @Test
    void should_answer_the_same_idempotency_key_on_either_server_with_the_one_original_run() throws Exception {
        // given a thread
        Api onA = Api.signIn(serverA, "frank");
        Api onB = onA.on(serverB);
        String thread = "/api/v1/threads/" + onA.post("/api/v1/threads", "{}", Map.of()).json().path("id").asText();
        Map<String, String> key = Map.of("Idempotency-Key", "retry-42");

        // when the same request reaches both servers at once, then one of them again
        CompletableFuture<Api.Response> viaA = CompletableFuture.supplyAsync(() -> call(() ->
                onA.post(thread + "/chat", chat("only once", false, null), key)));
        CompletableFuture<Api.Response> viaB = CompletableFuture.supplyAsync(() -> call(() ->
                onB.post(thread + "/chat", chat("only once", false, null), key)));
        Api.Response first = viaA.get();
        Api.Response second = viaB.get();
        Api.Response retry = onB.post(thread + "/chat", chat("only once", false, null), key);

        // then all three answer the one run, and the message was stored once
        for (Api.Response r : List.of(first, second, retry)) {
            assertThat(r.status()).as(r.body()).isEqualTo(200);
        }
        assertThat(List.of(first, second, retry)).extracting(r -> r.json().path("run_id").asText()).containsOnly(
                first.json().path("run_id").asText());
        assertThat(texts(onA.get(thread + "/messages?limit=100").json()))
                .containsExactly("only once", "You said: \"only once\" (2 words).");
    }

    @Test
    void should_end_the_runs_of_a_killed_server_as_interrupted_keeping_their_text_and_closing_their_streams() throws Exception {
        // given a third server streaming a long answer, and a client following that run through server B
        try (DemoProcess victim = DemoProcess.start("victim", environment(), dir)) {
            Api onVictim = Api.signIn(victim, "grace");
            Api onB = onVictim.on(serverB);
            SseStream onServerV = onVictim.stream("POST", "/api/v1/chat", chat("count to 5000", true, null), Map.of());
            JsonNode started = onServerV.until(WAIT, "run_started").data();
            String thread = "/api/v1/threads/" + started.path("thread_id").asText();
            String run = thread + "/runs/" + started.path("run_id").asText();
            while (onServerV.received().size() < 30) {
                onServerV.next(WAIT);
            }
            try (SseStream follower = onB.stream("GET", run + "/events", null, Map.of())) {
                follower.until(WAIT, "token");

                // when the server running it is killed
                victim.kill();
                long killed = System.nanoTime();

                // then the follower's stream ends with an error once the run's lease expired
                SseStream.Event end = follower.until(WAIT, "error", "done", "cancelled");
                long tookMs = (end.arrivedNanos() - killed) / 1_000_000;
                System.out.printf("kill -9 of the server running a streaming run -> error event on another server's"
                        + " stream after %d ms (lease %d s)%n", tookMs, LEASE_SECONDS);
                assertThat(end.type()).isEqualTo("error");
                assertThat(end.data().path("code").asText()).isEqualTo("interrupted");
                assertThat(follower.next(WAIT)).as("the stream closes after its terminal event").isNull();
                assertThat(follower.received()).extracting(SseStream.Event::id)
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, follower.received().size()).boxed().toList());

                // and the run failed as interrupted, its streamed text kept as an incomplete message
                JsonNode failed = onB.get(run).json();
                assertThat(failed.path("status").asText()).isEqualTo("failed");
                assertThat(failed.path("error").path("code").asText()).isEqualTo("interrupted");
                JsonNode messages = onB.get(thread + "/messages?limit=100").json().path("data");
                JsonNode partial = messages.get(messages.size() - 1);
                assertThat(partial.path("role").asText()).isEqualTo("assistant");
                assertThat(partial.path("status").asText()).isEqualTo("incomplete");
                assertThat(text(partial)).isEqualTo(follower.text()).startsWith("1 2 3 4 5");
                assertThat(countTo(5000)).startsWith(text(partial));

                // and the thread takes new messages on any server
                Api.Response next = onB.post(thread + "/chat", chat("still there?", false, null), Map.of());
                assertThat(next.status()).as(next.body()).isEqualTo(200);
                assertThat(next.json().path("status").asText()).isEqualTo("completed");
            } finally {
                onServerV.close();
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    @Test
    void should_let_a_run_wait_for_approval_on_one_server_and_complete_on_the_other_while_a_reader_follows_it() throws Exception {
        // given a run that waits for approval of two refunds, paused on server A, and a reader on A
        Api onA = Api.signIn(serverA, "gwen");
        Api onB = onA.on(serverB);
        Api.Response waiting = onA.post("/api/v1/chat", chat("refund A-1 B-2", false, null), Map.of());
        assertThat(waiting.status()).as(waiting.body()).isEqualTo(200);
        assertThat(waiting.json().path("status").asText()).isEqualTo("requires_action");
        String run = "/api/v1/threads/" + waiting.json().path("thread_id").asText() + "/runs/" + waiting.json().path("run_id").asText();
        List<String> calls = new ArrayList<>();
        waiting.json().path("required_action").path("tool_calls").forEach(c -> calls.add(c.path("id").asText()));
        assertThat(calls).hasSize(2);
        try (SseStream reader = onA.stream("GET", run + "/events", null, Map.of())) {
            reader.until(WAIT, "approval_required");
            reader.until(WAIT, "approval_required");

            // when the first call is decided on both servers at once
            CompletableFuture<Api.Response> approveOnA = CompletableFuture.supplyAsync(() -> call(() ->
                    onA.post(run + "/approvals", "{\"tool_call_id\":\"" + calls.get(0) + "\",\"decision\":\"approve\"}", Map.of())));
            CompletableFuture<Api.Response> denyOnB = CompletableFuture.supplyAsync(() -> call(() ->
                    onB.post(run + "/approvals", "{\"tool_call_id\":\"" + calls.get(0) + "\",\"decision\":\"deny\"}", Map.of())));
            List<Integer> statuses = List.of(approveOnA.get(WAIT.toSeconds(), TimeUnit.SECONDS).status(),
                    denyOnB.get(WAIT.toSeconds(), TimeUnit.SECONDS).status());

            // then exactly one of them is recorded
            assertThat(statuses).containsExactlyInAnyOrder(200, 409);

            // and when the second is denied on B, the run goes on on B, and the reader on A sees it to the end
            Api.Response last = onB.post(run + "/approvals", "{\"tool_call_id\":\"" + calls.get(1)
                    + "\",\"decision\":\"deny\",\"reason\":\"no receipt\"}", Map.of());
            assertThat(last.status()).as(last.body()).isEqualTo(200);
            reader.until(WAIT, "done");
            List<SseStream.Event> all = reader.received();
            assertThat(all).extracting(SseStream.Event::id)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, all.size()).boxed().toList());
            assertThat(all).extracting(SseStream.Event::type).filteredOn("approval_decided"::equals).hasSize(2);
            assertThat(reader.text()).endsWith("I did not refund order B-2: the user denied this tool call: no receipt.");
        }
        assertThat(onA.get(run).json().path("status").asText()).isEqualTo("completed");
    }

    private static long percentile(List<Long> nanos, int percent) {
        List<Long> sorted = nanos.stream().sorted().toList();
        int index = Math.max(0, (int) Math.ceil(percent / 100.0 * sorted.size()) - 1);
        return sorted.get(index) / 1_000_000;
    }

    private static String countTo(int n) {
        return IntStream.rangeClosed(1, n).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    private static String tokens(List<SseStream.Event> events) {
        StringBuilder text = new StringBuilder();
        for (SseStream.Event e : events) {
            if ("token".equals(e.type())) {
                text.append(e.data().path("content").asText());
            }
        }
        return text.toString();
    }

    private static List<String> texts(JsonNode page) {
        List<String> texts = new ArrayList<>();
        for (JsonNode m : page.path("data")) {
            texts.add(text(m));
        }
        return texts;
    }

    private static String text(JsonNode message) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : message.path("content")) {
            text.append(part.path("text").asText(""));
        }
        return text.toString();
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }

    @FunctionalInterface
    private interface Call<T> {
        T call() throws Exception;
    }

    private static <T> T call(Call<T> call) {
        try {
            return call.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls {@code check} until it holds; fails after {@link #WAIT}. */
    private static void await(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long pauseMillis = 5;
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            TimeUnit.MILLISECONDS.sleep(pauseMillis); // the pause between two polls
            pauseMillis = Math.min(pauseMillis * 2, 100);
        }
    }
}
