package dev.parley.examples;

import static dev.parley.examples.cluster.Api.chat;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.examples.cluster.Api;
import dev.parley.examples.cluster.DemoProcess;
import dev.parley.examples.cluster.Poll;
import dev.parley.examples.cluster.PrivatePostgres;
import dev.parley.examples.cluster.SseStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo server on a PostgreSQL of this test's own, which is stopped while runs stream and
 * started again: the server keeps answering (503, quickly), runs end with an error or finish, a run
 * that ended during the outage is stored as its stream ended, with its partial text, once the
 * database is back, no run stays in progress, and new chats work again.
 */
class DatabaseOutageIT {
    private static final String SECRET = "a-test-secret-that-is-32-bytes-long!";
    private static final int LEASE_SECONDS = 2;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void should_answer_503_during_an_outage_end_or_finish_its_runs_and_recover_when_the_database_is_back() throws Exception {
        try (PrivatePostgres.PrivateServer database = PrivatePostgres.privateServer(dir);
             DemoProcess server = DemoProcess.start("server", environment(database), dir)) {
            try {
                outage(database, server);
            } catch (AssertionError | Exception e) {
                System.out.println("the server's warnings and errors:\n" + server.problems());
                throw e;
            }
        }
    }

    private void outage(PrivatePostgres.PrivateServer database, DemoProcess server) throws Exception {
        // given a server that works, and two runs streaming: a short one and one that outlasts the outage
        Api api = Api.signIn(server, "heidi");
        assertThat(api.post("/api/v1/chat", chat("calculate 6*7", false, null), Map.of()).json().path("response").asText())
                .isEqualTo("6*7 = 42");
        SseStream shortRun = api.stream("POST", "/api/v1/chat", chat("count to 150", true, null), Map.of());
        SseStream longRun = api.stream("POST", "/api/v1/chat", chat("count to 1000", true, null), Map.of());
        JsonNode shortStarted = shortRun.until(WAIT, "run_started").data();
        JsonNode longStarted = longRun.until(WAIT, "run_started").data();
        shortRun.until(WAIT, "token");
        longRun.until(WAIT, "token");

        // when the database stops
        database.stop();

        // then readiness says so, and requests are answered 503 quickly instead of hanging
        awaitStatus(api, "/ready", 503);
        Api.Response list = api.get("/api/v1/threads");
        assertThat(list.status()).as(list.body()).isEqualTo(503);
        assertThat(list.code()).isEqualTo("unavailable");
        Api.Response send = api.post("/api/v1/chat", chat("hello?", false, null), Map.of());
        assertThat(send.status()).as(send.body()).isEqualTo(503);
        assertThat(send.code()).isEqualTo("unavailable");
        assertThat(list.body() + send.body()).doesNotContainIgnoringCase("sql").doesNotContain("Exception");
        System.out.printf("database down: GET /api/v1/threads answered 503 in %d ms, POST /api/v1/chat in %d ms%n",
                list.took().toMillis(), send.took().toMillis());
        assertThat(list.took()).isLessThan(Duration.ofSeconds(15));
        assertThat(send.took()).isLessThan(Duration.ofSeconds(15));
        // and the run that ends meanwhile ends its stream with an error, the other streams on
        SseStream.Event shortEnd = shortRun.until(WAIT, "error", "done");
        assertThat(shortEnd.type()).isEqualTo("error");
        assertThat(shortEnd.data().path("code").asText()).isEqualTo("unavailable");

        // when the database is back
        database.start();

        // then the server is ready again, and new chats work
        awaitStatus(api, "/ready", 200);
        Api.Response again = awaitStatus(api, "/api/v1/chat", chat("calculate 2*21", false, null), 200);
        assertThat(again.json().path("response").asText()).isEqualTo("2*21 = 42");
        // and the run that outlasted the outage finishes whole (on a machine so slow that it ended during the
        // outage, it failed like the other)
        SseStream.Event longEnd = longRun.until(WAIT, "done", "error");
        if (longEnd.type().equals("done")) {
            assertThat(longRun.text()).isEqualTo(countTo(1000));
            assertThat(run(api, longStarted).path("status").asText()).isEqualTo("completed");
        } else {
            System.out.println("the long run ended during the outage: " + longEnd);
            Poll.until("the long run failed", WAIT, () -> "failed".equals(run(api, longStarted).path("status").asText()));
            assertThat(run(api, longStarted).path("error").path("code").asText()).isEqualTo("unavailable");
            assertThat(lastMessage(api, longStarted).path("content").get(0).path("text").asText()).isEqualTo(longRun.text());
        }
        // and the run that ended during the outage is stored as its stream said, by its own server once the
        // database is back (not as interrupted by the reaper), with what it had streamed kept
        Poll.until("the short run ended", WAIT, () -> !"in_progress".equals(run(api, shortStarted).path("status").asText()));
        JsonNode shortRunNow = run(api, shortStarted);
        assertThat(shortRunNow.path("status").asText()).isEqualTo("failed");
        assertThat(shortRunNow.path("error").path("code").asText()).isEqualTo("unavailable");
        JsonNode kept = lastMessage(api, shortStarted);
        assertThat(kept.path("role").asText()).isEqualTo("assistant");
        assertThat(kept.path("status").asText()).isEqualTo("incomplete");
        assertThat(kept.path("content").get(0).path("text").asText()).isEqualTo(shortRun.text());
        assertThat(countTo(150)).startsWith(shortRun.text());
        Poll.until("no run is in progress", WAIT,
                () -> database.queryLong("SELECT COUNT(*) FROM parley_runs WHERE status = 'in_progress'") == 0);
        shortRun.close();
        longRun.close();
    }

    private static Map<String, String> environment(PrivatePostgres.PrivateServer database) {
        Map<String, String> env = new HashMap<>(database.demoEnvironment());
        env.put("PARLEY_JWT_SECRET", SECRET);
        env.put("PARLEY_RUN_LEASE_SECONDS", Integer.toString(LEASE_SECONDS));
        env.put("PARLEY_DEMO_TOKEN_DELAY_MS", "10");
        env.put("PARLEY_RATE_LIMIT", "0");
        return env;
    }

    private static JsonNode run(Api api, JsonNode started) throws IOException, InterruptedException {
        return api.get("/api/v1/threads/" + started.path("thread_id").asText() + "/runs/" + started.path("run_id").asText())
                .json();
    }

    private static JsonNode lastMessage(Api api, JsonNode started) throws IOException, InterruptedException {
        JsonNode messages = api.get("/api/v1/threads/" + started.path("thread_id").asText() + "/messages").json().path("data");
        return messages.get(messages.size() - 1);
    }

    private static String countTo(int n) {
        return IntStream.rangeClosed(1, n).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    private static void awaitStatus(Api api, String path, int status) throws Exception {
        Poll.until(path + " answers " + status, WAIT, () -> api.get(path).status() == status);
    }

    private static Api.Response awaitStatus(Api api, String path, String body, int status) throws Exception {
        Api.Response[] last = new Api.Response[1];
        Poll.until(path + " answers " + status, WAIT, () -> (last[0] = api.post(path, body, Map.of())).status() == status);
        return last[0];
    }
}
