package dev.parley.adapter.http;

import static dev.parley.adapter.http.TestServer.ALICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.Subscription;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The chat flow's delivery of pushed events: how a stream answers when its subscription fails first, its flushes, and the token frames. */
class StreamDeliveryTest {
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void should_write_a_token_exactly_as_jackson_writes_its_tree() {
        RunId run = new RunId("run_0123456789abcdef0123456789abcdef");
        List<String> contents = List.of("", "plain", "quote \" and backslash \\", "control \u0000\u0001\u001f\t\n\r\b\f",
                "del \u007f, slash /", "emoji \uD83D\uDE00, RTL \u05E9\u05DC\u05D5\u05DD", "separators \u2028\u2029",
                "lone surrogate \uD800 here", "e\u0301 combining");
        for (String content : contents) {
            RunEvent.Token token = new RunEvent.Token(run, 42, content);
            // the SSE data line, and the WebSocket frame with its request id
            assertThat(Wire.eventJson(token, null)).isEqualTo(Json.write(Wire.event(token)));
            assertThat(Wire.eventJson(token, "req \"1\"")).isEqualTo(Json.write(Wire.event(token).put("request_id", "req \"1\"")));
            assertThat(SseStream.frame(token)).isEqualTo("id: 42\nevent: token\ndata: " + Json.write(Wire.event(token)) + "\n\n");
            assertThat(SseStream.frameBytes(token)).as(content).isEqualTo(SseStream.frame(token).getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void should_write_a_plain_ascii_token_frame_with_the_same_bytes_as_its_text() {
        List<String> contents = List.of("", "word", " Hello, world! 0123456789 <a href='x'>&amp;</a> {}[]:;?/~`|^", "\u007f", "tab\t",
                "caf\u00e9", "q\"", "b\\");
        for (long seq : new long[] {1, 9, 10, 99, 100, 123_456_789, Long.MAX_VALUE}) {
            for (String content : contents) {
                RunEvent.Token token = new RunEvent.Token(new RunId("run_0123456789abcdef0123456789abcdef"), seq, content);
                assertThat(SseStream.frameBytes(token)).as("%d %s", seq, content)
                        .isEqualTo(("id: " + seq + "\nevent: token\ndata: " + Json.write(Wire.event(token)) + "\n\n")
                                .getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void should_answer_the_problem_when_the_run_cannot_be_read_before_anything_was_sent() {
        // given a service whose subscriptions fail on their first read of the log, after the checks
        server = TestServer.start(ScriptedChatModel.echo(), c -> new ParleyHttp.Config.Builder(failingFirstRead(c.build().chat()),
                JwtAuthenticator.hs256(Tokens.SECRET).build()));
        String thread = server.newThread(ALICE);
        var sent = server.post(ALICE, "{\"message\":\"hi\"}", "/api/v1/threads/{thread_id}/chat", thread);
        String run = sent.json().get("run_id").asText();

        // when
        var events = server.get(ALICE, "/api/v1/threads/{thread_id}/runs/{run_id}/events", thread, run);
        var streamedChat = server.request("POST", "/api/v1/threads/{thread_id}/chat", thread).as(ALICE)
                .json("{\"message\":\"kept\",\"stream\":true}").send();

        // then each is answered 503 as a problem, the chat naming its stored run
        for (var r : List.of(events, streamedChat)) {
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
            assertThat(r.json().get("code").asText()).isEqualTo("unavailable");
        }
        assertThat(streamedChat.json().get("run_id").asText()).startsWith("run_");
        assertThat(streamedChat.json().get("thread_id").asText()).isEqualTo(thread);
    }

    @Test
    void should_write_the_streams_opening_and_its_first_events_in_one_flush() throws Exception {
        // given an attached delivery whose first catch-up finds two events
        RecordingSink sink = new RecordingSink();
        StreamDelivery delivery = new StreamDelivery(sink, null, TimeUnit.SECONDS.toNanos(15), ConcurrentHashMap.newKeySet(), end -> { });
        delivery.attach();
        RunId run = new RunId("run_0123456789abcdef0123456789abcdef");

        // when
        delivery.onEvent(new RunEvent.Token(run, 1, "Hel"));
        delivery.onEvent(new RunEvent.Token(run, 2, "lo"));
        delivery.onCaughtUp();
        delivery.onEnd(null);

        // then the headers go out with the events, not in a flush of their own
        assertThat(sink.calls).containsExactly("open", "event 1", "event 2", "flush");
    }

    @Test
    void should_flush_the_opening_at_once_when_the_first_catch_up_finds_nothing() throws Exception {
        // given
        RecordingSink sink = new RecordingSink();
        StreamDelivery delivery = new StreamDelivery(sink, null, TimeUnit.SECONDS.toNanos(15), ConcurrentHashMap.newKeySet(), end -> { });
        delivery.attach();

        // when
        delivery.onCaughtUp();
        delivery.onEnd(null);

        // then the client sees the stream open while the run has nothing to say yet
        assertThat(sink.calls).containsExactly("open", "flush");
    }

    /** A transport that records what the delivery asks of it. */
    private static final class RecordingSink implements ChatFlow.Sink {
        final List<String> calls = new ArrayList<>();

        @Override
        public boolean webSocket() {
            return false;
        }

        @Override
        public void open() {
            calls.add("open");
        }

        @Override
        public void event(RunEvent event) {
            calls.add("event " + event.seq());
        }

        @Override
        public void heartbeat() {
            calls.add("heartbeat");
        }

        @Override
        public void flush() {
            calls.add("flush");
        }
    }

    /** {@code chat}, whose push subscriptions end with an unreachable store on a delivery thread, as a bus's would. */
    private static ChatUseCases failingFirstRead(ChatUseCases chat) {
        return (ChatUseCases) Proxy.newProxyInstance(ChatUseCases.class.getClassLoader(), new Class<?>[] {ChatUseCases.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("subscribe") && args.length == 6) {
                        RunEventSink sink = (RunEventSink) args[5];
                        CompletableFuture.runAsync(() -> sink.onEnd(new StorageUnavailableException("pool exhausted", null)));
                        Subscription none = () -> { };
                        return none;
                    }
                    try {
                        return method.invoke(chat, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
