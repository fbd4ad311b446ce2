package dev.parley.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.benchmarks.load.Client;
import dev.parley.benchmarks.load.Load;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The harness's wiring: the bench server serves Parley's streamed chat and its own routes. Asserts no numbers. */
class BenchServerTest {
    private BenchServer server;
    private Client client;

    @BeforeEach
    void start() {
        server = BenchServer.start(new BenchServer.Options(List.of(Databases.Kind.MEMORY), false, Duration.ofSeconds(15), null, 2));
        client = new Client(server.ports().get("memory"), Load.EXECUTOR);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void should_stream_a_whole_run_of_the_cost_free_model() throws Exception {
        // given
        String thread = client.createThread("alice");

        // when
        List<String> types = new ArrayList<>();
        HttpResponse<InputStream> res = client.streamChat("alice", thread, "zero:3", false);
        try (Client.EventReader events = new Client.EventReader(res.body())) {
            Client.Event e;
            while ((e = events.next()) != null) {
                types.add(e.type());
            }
        }

        // then
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(types).containsExactly("run_started", "token", "token", "token", "done");
    }

    @Test
    void should_hold_a_bare_idle_stream_and_write_its_heartbeats_from_the_shared_timer() throws Exception {
        // given
        try (BenchServer fast = BenchServer.start(new BenchServer.Options(List.of(Databases.Kind.MEMORY), false, Duration.ofMillis(50), null, 2))) {
            Client c = new Client(fast.ports().get("memory"), Load.EXECUTOR);

            // when
            HttpResponse<InputStream> res = c.bareIdleStream("carol", "hang:0");
            List<String> types = new ArrayList<>();
            try (Client.EventReader events = new Client.EventReader(res.body())) {
                while (types.size() < 3) {
                    types.add(events.next().type());
                }
            }

            // then
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/event-stream"));
            assertThat(types).containsExactly("run_started", "heartbeat", "heartbeat");
        }
    }

    @Test
    void should_time_streamed_chats_and_the_baseline_on_the_server_side() throws Exception {
        // given
        String thread = client.createThread("bob");
        client.bench("/bench/stats", false);

        // when
        try (Client.EventReader events = new Client.EventReader(client.streamChat("bob", thread, "zero:1", false).body())) {
            while (events.next() != null) {
                // read to the end
            }
        }
        try (Client.EventReader events = new Client.EventReader(client.baselineStream().body())) {
            while (events.next() != null) {
                // read to the end
            }
        }
        JsonNode stats = client.bench("/bench/stats", false);

        // then
        assertThat(stats.get("parley_first_token_us").get("count").asLong()).isEqualTo(1);
        assertThat(stats.get("baseline_first_event_us").get("count").asLong()).isEqualTo(1);
        assertThat(stats.get("heap_used").asLong()).isPositive();
    }

    @Test
    void should_cancel_a_hanging_run_end_its_stream_with_cancelled_and_time_the_cancel_on_the_server_side() throws Exception {
        // given
        String thread = client.createThread("carol");
        client.bench("/bench/stats", false);
        HttpResponse<InputStream> res = client.streamChat("carol", thread, "hang:1", false);
        List<String> types = new ArrayList<>();

        // when
        try (Client.EventReader events = new Client.EventReader(res.body())) {
            Client.Event e;
            while ((e = events.next()) != null) {
                types.add(e.type());
                if (e.type().equals("token")) {
                    assertThat(client.cancel("carol", thread).statusCode()).isEqualTo(200);
                }
            }
        }

        // then
        assertThat(types).containsExactly("run_started", "token", "cancelled");
        assertThat(client.bench("/bench/stats", false).get("cancel_answered_us").get("count").asLong()).isEqualTo(1);
    }
}
