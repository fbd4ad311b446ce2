package dev.parley.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.benchmarks.load.Client;
import dev.parley.benchmarks.load.Load;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The limit of scenario 7 writes the rows Parley's store reads: turns through the bare handler and
 * through Parley's route follow each other on one thread, and the history reads back whole, in order.
 * Asserts no numbers.
 */
class BareChatTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private BenchServer server;
    private Client client;
    private int port;

    @BeforeEach
    void start() {
        server = BenchServer.start(new BenchServer.Options(List.of(Databases.Kind.H2), true, Duration.ofSeconds(15), null, 2));
        port = server.ports().get("h2");
        client = new Client(port, Load.EXECUTOR);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void should_write_turns_that_parley_reads_back_and_continues() throws Exception {
        // given
        String thread = client.createThread("dora");

        // when: bare, bare, then Parley's own route on the same thread
        List<Integer> statuses = new ArrayList<>();
        statuses.add(client.syncChat("dora", thread, "zero:3", true).statusCode());
        statuses.add(client.syncChat("dora", thread, "zero:3", true).statusCode());
        statuses.add(client.syncChat("dora", thread, "zero:3", false).statusCode());

        // then
        assertThat(statuses).containsExactly(200, 200, 200);
        HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/threads/" + thread + "/messages?limit=20"))
                .header("Authorization", Client.bearer("dora")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        List<String> roles = new ArrayList<>();
        for (JsonNode m : JSON.readTree(page.body()).get("data")) {
            roles.add(m.get("role").asText());
        }
        assertThat(roles).containsExactly("user", "assistant", "user", "assistant", "user", "assistant");
    }
}
