package dev.parley.adapter.openai;

import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ChatModel;
import static dev.parley.adapter.openai.Conversations.ask;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.Cancellation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hung servers, watchdog timeouts, and cancellation closing the connection. */
class TimeoutsAndCancellationTest {

    /** One call of {@code model}: here {@link ChatModel#complete}; the asynchronous twin of this test makes it with {@code completeAsync}. */
    ModelResponse complete(ChatModel model, ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return model.complete(request, listener, cancellation);
    }
    private static final Duration SHORT = Duration.ofMillis(300);
    private final ExecutorService caller = Executors.newCachedThreadPool();
    private final FakeChatServer server = new FakeChatServer();
    private final RecordingListener listener = new RecordingListener();

    @AfterEach
    void stop() {
        server.close();
        caller.shutdownNow();
    }

    private OpenAiChatModel.Builder model(String baseUrl) {
        return OpenAiChatModel.builder().baseUrl(baseUrl).model("gpt-4o-mini").maxRetries(0);
    }

    @Test
    void should_time_out_when_the_server_sends_no_headers() {
        // given
        server.then(FakeChatServer.hang());
        OpenAiChatModel model = model(server.baseUrl()).firstTokenTimeout(SHORT).build();

        // when
        Throwable e = catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()));

        // then
        assertThat(e).isInstanceOf(ModelException.class).hasFieldOrPropertyWithValue("code", "model_timeout")
                .hasMessageContaining("first-token");
    }

    @Test
    void should_time_out_when_the_stream_opens_but_no_event_comes() {
        // given
        server.then(FakeChatServer.sseThenHang(": waiting\n\n"));
        OpenAiChatModel model = model(server.baseUrl()).firstTokenTimeout(SHORT).build();

        // when
        Throwable e = catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()));

        // then
        assertThat(e).isInstanceOf(ModelException.class).hasFieldOrPropertyWithValue("code", "model_timeout")
                .hasMessageContaining("first-token");
    }

    @Test
    void should_time_out_when_the_stream_goes_idle_and_keep_what_was_streamed() {
        // given
        server.then(FakeChatServer.sseThenHang("data: " + Transcripts.textDelta("Half") + "\n\n"));
        OpenAiChatModel model = model(server.baseUrl()).firstTokenTimeout(Duration.ofSeconds(30)).idleTimeout(SHORT).build();
        long started = System.nanoTime();

        // when
        Throwable e = catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()));

        // then
        assertThat(e).isInstanceOf(ModelException.class).hasFieldOrPropertyWithValue("code", "model_timeout")
                .hasMessageContaining("idle");
        assertThat(listener.tokens).containsExactly("Half");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("idle, not first-token, timeout applied")
                .isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void should_time_out_on_the_total_timeout() {
        // given
        server.then(FakeChatServer.hang());
        OpenAiChatModel model = model(server.baseUrl()).firstTokenTimeout(Duration.ofSeconds(20)).totalTimeout(SHORT).build();

        // when
        Throwable e = catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()));

        // then
        assertThat(e).isInstanceOf(ModelException.class).hasFieldOrPropertyWithValue("code", "model_timeout")
                .hasMessageContaining("total");
    }

    @Test
    void should_time_out_a_hung_non_streaming_call_on_the_total_timeout() {
        // given
        server.then(FakeChatServer.hang());
        OpenAiChatModel model = model(server.baseUrl()).streaming(false).totalTimeout(SHORT).build();

        // when
        Throwable e = catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()));

        // then
        assertThat(e).isInstanceOf(ModelException.class).hasFieldOrPropertyWithValue("code", "model_timeout");
    }

    @Test
    void should_close_the_connection_when_a_timeout_fires() throws Exception {
        // given
        try (RawHttpServer raw = new RawHttpServer()) {
            CompletableFuture<Long> closedAt = new CompletableFuture<>();
            raw.then(c -> {
                c.sseHead();
                c.chunk("data: " + Transcripts.textDelta("Stalling") + "\n\n");
                closedAt.complete(c.awaitClientClose(10_000));
            });
            OpenAiChatModel model = model(raw.baseUrl()).idleTimeout(SHORT).build();

            // when
            Throwable e = catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()));

            // then
            assertThat(e).isInstanceOf(ModelException.class).hasFieldOrPropertyWithValue("code", "model_timeout");
            assertThat(closedAt.get(10, TimeUnit.SECONDS)).as("server saw the connection close").isPositive();
        }
    }

    @Test
    void should_not_call_the_server_when_already_cancelled() {
        // given
        Cancellation cancellation = new Cancellation();
        cancellation.cancel();

        // when / then
        assertThatThrownBy(() -> complete(model(server.baseUrl()).build(), ask("Hi"), listener, cancellation))
                .isInstanceOf(RunCancelledException.class);
        assertThat(server.received()).isEmpty();
    }

    @Test
    void should_close_the_connection_when_cancelled_mid_stream() throws Exception {
        // given
        int runs = Integer.getInteger("parley.cancel.runs", 3);
        List<Long> micros = new ArrayList<>();

        for (int i = 0; i < runs; i++) {
            // when
            CancelMeasurement m = cancelMidStream();

            // then
            assertThat(m.outcome).isInstanceOf(RunCancelledException.class);
            assertThat(m.closedAtNanos).as("server saw the connection close").isPositive();
            micros.add(TimeUnit.NANOSECONDS.toMicros(m.closedAtNanos - m.cancelledAtNanos));
        }
        Collections.sort(micros);
        System.out.printf("cancel-to-close over %d runs: min %d us, median %d us, max %d us (java %s)%n",
                runs, micros.get(0), micros.get(micros.size() / 2), micros.get(micros.size() - 1),
                System.getProperty("java.version"));
    }

    @Test
    void should_close_the_connection_when_cancelled_before_the_response_headers() throws Exception {
        // given
        try (RawHttpServer raw = new RawHttpServer()) {
            CompletableFuture<Long> closedAt = new CompletableFuture<>();
            CompletableFuture<Void> requestSeen = new CompletableFuture<>();
            raw.then(c -> {
                requestSeen.complete(null);
                closedAt.complete(c.awaitClientClose(10_000));
            });
            Cancellation cancellation = new Cancellation();
            OpenAiChatModel model = model(raw.baseUrl()).build();
            Future<?> call = caller.submit(() -> complete(model, ask("Hi"), listener, cancellation));
            requestSeen.get(10, TimeUnit.SECONDS);

            // when
            cancellation.cancel();

            // then
            Throwable outcome = catchThrowable(() -> call.get(10, TimeUnit.SECONDS));
            assertThat(outcome).hasCauseInstanceOf(RunCancelledException.class);
            assertThat(closedAt.get(10, TimeUnit.SECONDS)).as("server saw the connection close").isPositive();
        }
    }

    @Test
    void should_treat_an_interrupted_caller_as_cancelled() throws Exception {
        // given
        server.then(FakeChatServer.hang());
        OpenAiChatModel model = model(server.baseUrl()).build();
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread caller = new Thread(() -> outcome.complete(
                catchThrowable(() -> complete(model, ask("Hi"), listener, new Cancellation()))));
        caller.start();
        assertThat(server.awaitRequests(1, 10_000)).isTrue();

        // when
        caller.interrupt();

        // then
        assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(RunCancelledException.class);
    }

    @Test
    void should_stop_waiting_for_a_retry_when_cancelled() throws Exception {
        // given
        server.then(FakeChatServer.json(429, "{}", "Retry-After", "25"));
        Cancellation cancellation = new Cancellation();
        OpenAiChatModel model = model(server.baseUrl()).maxRetries(1).maxRetryAfter(Duration.ofSeconds(30)).build();
        Future<?> call = caller.submit(() -> complete(model, ask("Hi"), listener, cancellation));
        assertThat(server.awaitRequests(1, 10_000)).isTrue();

        // when
        cancellation.cancel();

        // then
        Throwable outcome = catchThrowable(() -> call.get(10, TimeUnit.SECONDS));
        assertThat(outcome).hasCauseInstanceOf(RunCancelledException.class);
        assertThat(server.received()).hasSize(1);
    }

    private static final class CancelMeasurement {
        Throwable outcome;
        long cancelledAtNanos;
        long closedAtNanos;
    }

    /** Streams two tokens (the body left open), cancels on the first, and records when the server saw the socket close. */
    private CancelMeasurement cancelMidStream() throws Exception {
        try (RawHttpServer raw = new RawHttpServer()) {
            CompletableFuture<Long> closedAt = new CompletableFuture<>();
            raw.then(c -> {
                c.sseHead();
                // both tokens in one write: a cancel on the first token must not find the second write
                // still to come (it would fail on the closed socket and never record the close)
                c.chunk("data: " + Transcripts.textDelta("Once") + "\n\n" + "data: " + Transcripts.textDelta(" upon") + "\n\n");
                closedAt.complete(c.awaitClientClose(10_000));
            });
            RecordingListener tokens = new RecordingListener();
            Cancellation cancellation = new Cancellation();
            OpenAiChatModel model = model(raw.baseUrl()).build();
            Future<?> call = caller.submit(() -> complete(model, ask("Tell a story"), tokens, cancellation));
            assertThat(tokens.firstToken.await(10, TimeUnit.SECONDS)).isTrue();

            CancelMeasurement m = new CancelMeasurement();
            m.cancelledAtNanos = System.nanoTime();
            cancellation.cancel();
            m.closedAtNanos = closedAt.get(10, TimeUnit.SECONDS);
            Throwable outcome = catchThrowable(() -> call.get(10, TimeUnit.SECONDS));
            m.outcome = outcome == null ? null : outcome.getCause();
            return m;
        }
    }
}
