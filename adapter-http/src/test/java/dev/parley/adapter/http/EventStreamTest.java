package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static dev.parley.adapter.http.TestServer.BOB;
import static dev.parley.adapter.http.TestServer.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EventStreamTest {
    private static final String CHAT = "/api/v1/threads/{thread_id}/chat";
    private static final String EVENTS = "/api/v1/threads/{thread_id}/runs/{run_id}/events";
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private TestServer.EventStream streamChat(String thread, String body) {
        return server.request("POST", CHAT, thread).as(ALICE).json(body).stream();
    }

    @Test
    void should_frame_every_event_byte_for_byte_and_end_after_done() {
        // given
        server = TestServer.start(ScriptedChatModel.builder().replyTokens("Hello", " world").usage(12, 5).build());
        String thread = server.newThread(ALICE);
        // when
        String raw;
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            stream.events().readToEnd();
            raw = stream.events().raw();
            assertThat(stream.header("Cache-Control")).isEqualTo("no-cache");
        }
        // then
        JsonNode run = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0);
        JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
        String runId = run.get("id").asText();
        String user = messages.get(0).get("id").asText();
        String assistant = messages.get(1).get("id").asText();
        String expected = ""
                + "id: 1\nevent: run_started\ndata: {\"type\":\"run_started\",\"run_id\":\"" + runId + "\",\"seq\":1,\"thread_id\":\"" + thread
                + "\",\"message_id\":\"" + user + "\",\"agent_id\":\"assistant\"}\n\n"
                + "id: 2\nevent: token\ndata: {\"type\":\"token\",\"run_id\":\"" + runId + "\",\"seq\":2,\"content\":\"Hello\"}\n\n"
                + "id: 3\nevent: token\ndata: {\"type\":\"token\",\"run_id\":\"" + runId + "\",\"seq\":3,\"content\":\" world\"}\n\n"
                + "id: 4\nevent: done\ndata: {\"type\":\"done\",\"run_id\":\"" + runId + "\",\"seq\":4,\"thread_id\":\"" + thread
                + "\",\"message_id\":\"" + assistant + "\",\"usage\":{\"input_tokens\":12,\"input_cached_tokens\":0,\"output_tokens\":5,\"total_tokens\":17},"
                + "\"tokens_used\":17,\"cost_usd\":0.000022,\"finish_reason\":\"stop\"}\n\n";
        assertThat(raw).isEqualTo(expected);
    }

    @Test
    void should_answer_410_events_expired_for_a_run_whose_log_the_retention_removed() {
        server = TestServer.start(ScriptedChatModel.replying("one two three"));
        String thread = server.newThread(ALICE);
        JsonNode reply = server.chat(ALICE, thread, "hi");
        String runId = reply.get("run_id").asText();
        server.store.events().expire(java.time.Instant.now().plusSeconds(60), 10);

        TestServer.Response gone = server.request("GET", EVENTS, thread, runId).as(ALICE).send();

        assertThat(gone.status()).isEqualTo(410);
        assertThat(gone.header("Content-Type")).startsWith("application/problem+json");
        assertThat(gone.json().get("code").asText()).isEqualTo("events_expired");
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}", thread, runId).status()).isEqualTo(200);
        assertThat(server.get(BOB, EVENTS, thread, runId).status()).isEqualTo(404);
    }

    @Test
    void should_stream_when_the_client_accepts_an_event_stream_and_replay_identically() {
        server = TestServer.start(ScriptedChatModel.replying("one two three"));
        String thread = server.newThread(ALICE);
        String live;
        try (TestServer.EventStream stream = server.request("POST", CHAT, thread).as(ALICE)
                .header("Accept", "text/event-stream").json("{\"message\":\"hi\"}").stream()) {
            stream.events().readToEnd();
            live = stream.events().raw();
        }
        String runId = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("id").asText();
        try (TestServer.EventStream replay = server.request("GET", EVENTS, thread, runId).as(ALICE).stream()) {
            replay.events().readToEnd();
            assertThat(replay.events().raw()).isEqualTo(live);
        }
    }

    @Test
    void should_resume_after_a_dropped_connection_without_gaps_or_duplicates() throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a", "b", "c").build();
        server = TestServer.start(model);
        String thread = server.newThread(ALICE);
        List<SseReader.Frame> frames = new ArrayList<>();
        String runId;
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            for (int i = 0; i < 3; i++) {
                frames.add(stream.events().next());
            }
            runId = frames.get(0).json().get("run_id").asText();
        } // the connection drops here
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        model.release();
        // when
        try (TestServer.EventStream resumed = server.request("GET", EVENTS, thread, runId).as(ALICE)
                .header("Last-Event-ID", frames.get(2).id()).stream()) {
            frames.addAll(resumed.events().readToEnd());
        }
        // then
        List<Long> seqs = frames.stream().map(SseReader.Frame::seq).toList();
        assertThat(seqs).containsExactly(1L, 2L, 3L, 4L, 5L);
        StringBuilder text = new StringBuilder();
        frames.stream().filter(f -> f.event().equals("token")).forEach(f -> text.append(f.json().get("content").asText()));
        JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
        assertThat(text.toString()).isEqualTo(messages.get(1).get("content").get(0).get("text").asText()).isEqualTo("abc");
        assertThat(frames.get(frames.size() - 1).event()).isEqualTo("done");
    }

    @Test
    void should_answer_204_to_a_resume_of_a_finished_run_with_nothing_left_so_eventsource_stops() {
        // given: a finished run of 4 events
        server = TestServer.start(ScriptedChatModel.builder().replyTokens("Hello", " world").build());
        String thread = server.newThread(ALICE);
        List<SseReader.Frame> frames;
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            frames = stream.events().readToEnd();
        }
        String runId = frames.get(0).json().get("run_id").asText();
        String last = frames.get(frames.size() - 1).id();
        assertThat(last).isEqualTo("4");
        // when: an EventSource that was not closed reconnects with the terminal seq, or one past it
        TestServer.Response atEnd = server.request("GET", EVENTS, thread, runId).as(ALICE).header("Last-Event-ID", last).send();
        TestServer.Response pastEnd = server.request("GET", EVENTS, thread, runId).as(ALICE).header("Last-Event-ID", "99").send();
        // then
        assertThat(atEnd.status()).isEqualTo(204);
        assertThat(atEnd.body()).isEmpty();
        assertThat(pastEnd.status()).isEqualTo(204);
        TestServer.Response head = server.request("HEAD", EVENTS, thread, runId).as(ALICE).header("Last-Event-ID", last).undocumented().send();
        assertThat(head.status()).isEqualTo(204);
        try (TestServer.EventStream beforeEnd = server.request("GET", EVENTS, thread, runId).as(ALICE)
                .header("Last-Event-ID", "3").stream()) {
            assertThat(beforeEnd.events().readToEnd()).extracting(SseReader.Frame::seq).containsExactly(4L);
        }
    }

    @Test
    void should_resume_an_idempotent_retry_of_a_streamed_chat_after_its_last_event_id() throws Exception {
        // given: a streamed chat whose connection drops after 3 events
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a", "b", "c").build();
        server = TestServer.start(model);
        String thread = server.newThread(ALICE);
        String body = "{\"message\":\"hi\",\"stream\":true}";
        List<SseReader.Frame> frames = new ArrayList<>();
        try (TestServer.EventStream stream = server.request("POST", CHAT, thread).as(ALICE)
                .header("Idempotency-Key", "retry-1").json(body).stream()) {
            for (int i = 0; i < 3; i++) {
                frames.add(stream.events().next());
            }
        }
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        model.release();
        // when: the client retries the same request with the same key and the seq it last received
        try (TestServer.EventStream retried = server.request("POST", CHAT, thread).as(ALICE)
                .header("Idempotency-Key", "retry-1").header("Last-Event-ID", frames.get(2).id()).json(body).stream()) {
            frames.addAll(retried.events().readToEnd());
        }
        // then: no duplicate, no gap, and the text is the stored one
        assertThat(frames).extracting(SseReader.Frame::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
        StringBuilder text = new StringBuilder();
        frames.stream().filter(f -> f.event().equals("token")).forEach(f -> text.append(f.json().get("content").asText()));
        JsonNode messages = server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data");
        assertThat(messages).hasSize(2);
        assertThat(text.toString()).isEqualTo(messages.get(1).get("content").get(0).get("text").asText()).isEqualTo("abc");
        // and a retry after the end has nothing left: 204, as /events answers
        TestServer.Response afterEnd = server.request("POST", CHAT, thread).as(ALICE)
                .header("Idempotency-Key", "retry-1").header("Last-Event-ID", "5").json(body).send();
        assertThat(afterEnd.status()).isEqualTo(204);
        assertThat(afterEnd.body()).isEmpty();
    }

    @Test
    void should_start_a_new_streamed_run_at_its_first_event_whatever_last_event_id_says() {
        server = TestServer.start(ScriptedChatModel.replying("fresh"));
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = server.request("POST", CHAT, thread).as(ALICE)
                .header("Idempotency-Key", "new-1").header("Last-Event-ID", "2").json("{\"message\":\"hi\",\"stream\":true}").stream()) {
            assertThat(stream.events().readToEnd()).extracting(SseReader.Frame::seq).startsWith(1L, 2L);
        }
        var malformed = server.request("POST", CHAT, thread).as(ALICE)
                .header("Last-Event-ID", "abc").json("{\"message\":\"not stored\",\"stream\":true}").send();
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(server.get(ALICE, "/api/v1/threads/{thread_id}/messages", thread).json().get("data")).hasSize(2);
    }

    @Test
    void should_end_with_cancelled_and_keep_the_partial_text_when_cancelled_mid_stream() {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("par", "tial").build();
        server = TestServer.start(model);
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            assertThat(stream.events().next().event()).isEqualTo("run_started");
            assertThat(stream.events().next().event()).isEqualTo("token");
            assertThat(stream.events().next().event()).isEqualTo("token");
            // when
            assertThat(server.delete(ALICE, CHAT, thread).status()).isEqualTo(200);
            // then
            List<SseReader.Frame> rest = stream.events().readToEnd();
            assertThat(rest).extracting(SseReader.Frame::event).containsExactly("cancelled");
            String partial = rest.get(0).json().get("message_id").asText();
            JsonNode message = server.get(ALICE, "/api/v1/threads/{thread_id}/messages?order=desc&limit=1", thread).json().get("data").get(0);
            assertThat(message.get("id").asText()).isEqualTo(partial);
            assertThat(message.get("status").asText()).isEqualTo("incomplete");
            assertThat(message.get("content").get(0).get("text").asText()).isEqualTo("partial");
        }
    }

    @Test
    void should_send_heartbeats_without_an_id_while_the_run_is_idle() {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("x").build();
        server = TestServer.start(model, c -> c.heartbeatInterval(Duration.ofMillis(100)));
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            SseReader.Frame frame;
            do {
                frame = stream.events().next();
            } while (!frame.event().equals("heartbeat"));
            assertThat(frame.raw()).isEqualTo("event: heartbeat\ndata: {\"type\":\"heartbeat\"}\n\n");
            model.release();
            List<SseReader.Frame> rest = stream.events().readToEnd();
            assertThat(rest.get(rest.size() - 1).event()).isEqualTo("done");
            assertThat(rest.stream().filter(f -> !f.event().equals("heartbeat")).map(SseReader.Frame::id)).doesNotContainNull();
        }
    }

    @Test
    void should_end_open_streams_when_the_server_stops() throws Exception {
        // given: a stream idle for longer than the test waits (no heartbeat would notice the stop)
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("x").build();
        server = TestServer.start(model, c -> c.heartbeatInterval(WAIT.multipliedBy(4)));
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            assertThat(stream.events().next()).isNotNull();

            // when
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(server.app::stop);

            // then: the pump is interrupted, the stream ends and the server stops
            stopped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            CompletableFuture<Void> ended = CompletableFuture.runAsync(() -> {
                try {
                    stream.events().readToEnd();
                } catch (java.io.UncheckedIOException reset) {
                    // a connection closed under the reader ends the stream as well
                }
            });
            ended.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            model.release();
        }
    }

    @Test
    void should_let_the_run_finish_when_the_client_goes_away() throws Exception {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("x").build();
        server = TestServer.start(model, c -> c.heartbeatInterval(Duration.ofMillis(50)));
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true}")) {
            stream.events().next();
        }
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        model.release();
        TestServer.eventually("the run completes", () -> "completed".equals(
                server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("status").asText()));
    }

    @Test
    void should_cancel_the_run_when_a_client_that_asked_for_it_goes_away() {
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("x").build();
        server = TestServer.start(model, c -> c.heartbeatInterval(Duration.ofMillis(50)));
        String thread = server.newThread(ALICE);
        try (TestServer.EventStream stream = streamChat(thread, "{\"message\":\"hi\",\"stream\":true,\"on_disconnect\":\"cancel\"}")) {
            stream.events().next();
        }
        TestServer.eventually("the run is cancelled", () -> "cancelled".equals(
                server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("status").asText()));
    }

    @Test
    void should_not_let_a_client_that_stops_reading_hold_up_the_run_or_other_clients() throws Exception {
        // given: a run that streams about 8 MB, followed by a client that never reads
        String chunk = "x".repeat(1000);
        String[] tokens = new String[8000];
        java.util.Arrays.fill(tokens, chunk);
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("start").replyTokens(tokens).build();
        server = TestServer.start(model);
        String thread = server.newThread(ALICE);
        CompletableFuture<TestServer.Response> first = CompletableFuture.supplyAsync(
                () -> server.post(ALICE, "{\"message\":\"warm up\"}", CHAT, thread));
        assertThat(model.awaitBlocked(WAIT)).isTrue();
        model.release();
        assertThat(first.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(200);
        var big = CompletableFuture.supplyAsync(() -> server.post(ALICE, "{\"message\":\"big\",\"if_busy\":\"enqueue\"}", CHAT, thread));
        TestServer.eventually("the big run exists", () ->
                server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").size() == 2);
        String runId = server.get(ALICE, "/api/v1/threads/{thread_id}/runs", thread).json().get("data").get(0).get("id").asText();
        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new java.net.InetSocketAddress("localhost", server.app.port()));
            OutputStream out = slow.getOutputStream();
            out.write(("GET /api/v1/threads/" + thread + "/runs/" + runId + "/events HTTP/1.1\r\nHost: localhost\r\n"
                    + "Authorization: Bearer " + Tokens.forUser(ALICE) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = slow.getInputStream();
            assertThat(in.read()).isEqualTo('H'); // the stream is open; from here on nothing is read
            // when / then: the run ends and another user is served meanwhile
            assertThat(big.get(30, TimeUnit.SECONDS).json().get("status").asText()).isEqualTo("completed");
            String other = server.newThread(BOB);
            assertThat(server.chat(BOB, other, "still there?").get("response").asText()).isEqualTo("still there?");
        }
    }
}
