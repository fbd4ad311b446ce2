package dev.parley.adapter.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link OpenAiChatModel}'s calls to {@code POST /chat/completions}: the HTTP exchange, retries
 * with backoff while nothing was received, the watchdog's timeouts, cancellation, and reading the
 * streamed or whole answer into a {@link ModelResponse}. Thread-safe: one instance serves every call.
 */
final class ChatCompletionsClient {
    private static final Logger log = LoggerFactory.getLogger(OpenAiChatModel.class);
    static final long MAX_COMPLETION_BYTES = 32L * 1024 * 1024;
    static final long DRAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    static final ScheduledExecutorService WATCHDOGS = watchdogScheduler();

    private final OpenAiSettings settings;
    private final HttpClient http;
    private final ObjectMapper json;
    private final ChatCompletionsRequest requests;
    private final UpstreamErrors errors;

    ChatCompletionsClient(OpenAiSettings settings, ObjectMapper json) {
        this.settings = settings;
        this.json = json;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.requests = new ChatCompletionsRequest(json, settings);
        this.errors = new UpstreamErrors(json, settings.apiKey());
    }

    ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(cancellation, "cancellation");
        cancellation.throwIfCancelled();
        HttpRequest httpRequest = httpRequest(requests.body(request));
        long started = System.nanoTime();
        long deadline = started + settings.totalTimeout().toNanos();
        logCall(request);
        CallState state = new CallState();
        Cancellation.Registration registration = cancellation.onCancel(state::cancel);
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    ModelResponse response = attempt(httpRequest, listener, state, deadline);
                    cancellation.throwIfCancelled();
                    logDone(response, started);
                    return response;
                } catch (ModelException e) {
                    logFailed(e);
                    throw e;
                } catch (RetryableFailure failure) {
                    Duration delay = retryWait(attempt, failure.error, deadline);
                    if (delay == null) {
                        throw failure.error;
                    }
                    state.pause(delay);
                    cancellation.throwIfCancelled();
                }
            }
        } finally {
            registration.close();
        }
    }

    /** {@link #complete} without a thread waiting: see {@link AsyncCompletion}. */
    CompletionStage<ModelResponse> completeAsync(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(cancellation, "cancellation");
        if (cancellation.isCancelled()) {
            return CompletableFuture.failedFuture(new RunCancelledException());
        }
        HttpRequest httpRequest = httpRequest(requests.body(request));
        logCall(request);
        return new AsyncCompletion(this, http, settings, httpRequest, listener, cancellation).start();
    }

    private void logCall(ModelRequest request) {
        if (log.isDebugEnabled()) {
            log.debug("Chat completion to {} model={} messages={} tools={} streaming={}", settings.endpointForLogs(),
                    requests.modelFor(request), request.messages().size(), request.tools().size(), settings.streaming());
        }
    }

    /** The debug line of a call that answered, {@code started} its {@link System#nanoTime}. */
    static void logDone(ModelResponse response, long started) {
        if (log.isDebugEnabled()) {
            log.debug("Chat completion done in {} ms: finish={} toolCalls={} usage={}",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), response.finishReason(),
                    response.toolCalls().size(), response.usage() == null ? "none" : "reported");
        }
    }

    /** The debug line of a call that failed for good. */
    static void logFailed(ModelException e) {
        log.debug("Chat completion failed: {} {}", e.code(), e.getMessage());
    }

    /**
     * The wait before another attempt after attempt number {@code attempt} failed with {@code error}, which another
     * attempt may cure; null when there is none (retries used up, too long a wait asked for, or past the deadline).
     */
    Duration retryWait(int attempt, ModelException error, long deadline) {
        Duration delay = retryDelay(attempt, error.retryAfter().orElse(null));
        if (attempt > settings.maxRetries() || delay == null || System.nanoTime() + delay.toNanos() - deadline >= 0) {
            log.debug("Chat completion failed after {} attempt(s): {}", attempt, error.code());
            return null;
        }
        log.info("Model server call failed ({}), retry {} of {} in {} ms", error.code(), attempt, settings.maxRetries(),
                delay.toMillis());
        return delay;
    }

    /** The wait before retry number {@code attempt}, or null when the server asked for too long a wait. */
    Duration retryDelay(int attempt, Duration retryAfter) {
        if (retryAfter != null) {
            return retryAfter.compareTo(settings.maxRetryAfter()) > 0 ? null : retryAfter;
        }
        long base = settings.initialBackoff().toMillis() << Math.min(attempt - 1, 20);
        long capped = Math.min(base, settings.maxBackoff().toMillis());
        long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        return Duration.ofMillis(jittered);
    }

    private ModelResponse attempt(HttpRequest request, ModelStreamListener listener, CallState state, long deadline) {
        Exchange exchange = new Exchange();
        state.begin(exchange);
        long firstToken = settings.streaming() ? settings.firstTokenTimeout().toNanos() : Long.MAX_VALUE;
        long idle = settings.streaming() ? settings.idleTimeout().toNanos() : Long.MAX_VALUE;
        Watchdog watchdog = new Watchdog(WATCHDOGS, exchange, deadline, firstToken, idle).start();
        CompletionAssembler assembler = new CompletionAssembler(listener);
        try {
            HttpResponse<InputStream> response = send(exchange, request);
            InputStream body = response.body();
            exchange.attach(body);
            int status = response.statusCode();
            if (status < 200 || status > 299) {
                throw statusFailure(status, response.headers(), readErrorBody(body));
            }
            if (!streamed(response.headers())) {
                readCompletion(body, assembler);
            } else {
                readStream(body, assembler, watchdog);
            }
            return assembler.response();
        } catch (IOException | RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                // an interrupted caller (e.g. an executor shutting down) is a cancellation
                exchange.abort(Exchange.Abort.CANCELLED);
            }
            Exchange.Abort why = exchange.abortReason();
            if (why != null) {
                throw aborted(why, e);
            }
            if (e instanceof IOException io) {
                throw readFailure(io);
            }
            throw (RuntimeException) e;
        } finally {
            watchdog.stop();
            exchange.close();
        }
    }

    /** What a status other than 2xx fails the attempt with: a {@link RetryableFailure} when another attempt may cure it. */
    RuntimeException statusFailure(int status, HttpHeaders headers, byte[] errorBody) {
        ModelException error = errors.forStatus(status, headers, errorBody);
        return UpstreamErrors.retryable(status) ? new RetryableFailure(error) : error;
    }

    /** Whether a 2xx answer is a stream of events (else one JSON completion). */
    boolean streamed(HttpHeaders headers) {
        String contentType = headers.firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
        return settings.streaming() && !contentType.startsWith("application/json");
    }

    private HttpResponse<InputStream> send(Exchange exchange, HttpRequest request) throws IOException {
        CompletableFuture<HttpResponse<InputStream>> future = http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream());
        exchange.attach(future);
        try {
            return future.get();
        } catch (CancellationException e) {
            throw new IOException("exchange aborted", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exchange.abort(Exchange.Abort.CANCELLED);
            throw new RunCancelledException();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (exchange.abortReason() != null) {
                throw new IOException("exchange aborted", cause);
            }
            throw sendFailure(cause);
        }
    }

    /** What a request that got no response fails with: a {@link RetryableFailure} when another attempt may cure it. */
    RuntimeException sendFailure(Throwable cause) {
        if (cause instanceof HttpConnectTimeoutException) {
            return new RetryableFailure(new ModelException("model_timeout",
                    "Could not connect to the model server within " + human(settings.connectTimeout()), null, cause));
        }
        if (cause instanceof ConnectException) {
            return new RetryableFailure(new ModelException("model_upstream", "Could not connect to the model server", null, cause));
        }
        if (cause instanceof HttpTimeoutException) {
            return new ModelException("model_timeout", "The model server did not answer in time", null, cause);
        }
        if (cause instanceof SSLException) {
            return new ModelException("model_upstream", "The TLS handshake with the model server failed", null, cause);
        }
        if (cause instanceof IOException) {
            // closed before any response (e.g. a stale pooled connection): nothing was received yet
            return new RetryableFailure(new ModelException("model_connection_lost",
                    "The model server closed the connection before answering", null, cause));
        }
        return new ModelException("model_error", "The model call failed", null, cause);
    }

    /** What a failure to read a response body (not an abort) means for the caller. */
    static ModelException readFailure(IOException e) {
        if (e instanceof SseReader.EventTooLargeException) {
            return CompletionAssembler.badResponse("a stream event is too large");
        }
        return new ModelException("model_connection_lost", "The connection to the model server was lost mid-response", null, e);
    }

    /**
     * Reads one streamed answer from {@code body} exactly as a call does once the server said 200
     * {@code text/event-stream}, without HTTP, retries or timeouts: the response, or a
     * {@link ModelException}. A seam for tests that feed it arbitrary bytes.
     */
    ModelResponse readStreamedAnswer(InputStream body, ModelStreamListener listener) {
        CompletionAssembler assembler = new CompletionAssembler(listener);
        long never = System.nanoTime() + Long.MAX_VALUE / 2;
        Watchdog unwatched = new Watchdog(WATCHDOGS, new Exchange(), never, Long.MAX_VALUE, Long.MAX_VALUE);
        try {
            readStream(body, assembler, unwatched);
            return assembler.response();
        } catch (IOException e) {
            throw readFailure(e);
        } finally {
            unwatched.stop();
        }
    }

    private void readStream(InputStream body, CompletionAssembler assembler, Watchdog watchdog) throws IOException {
        SseReader sse = new SseReader(body);
        String data;
        while ((data = sse.nextData()) != null) {
            watchdog.activity();
            if (acceptEvent(data, assembler)) {
                drain(sse, watchdog);
                return;
            }
        }
        streamEnded(assembler);
    }

    /** One streamed event's data into the answer; true when it is the stream's last ({@code [DONE]}). */
    boolean acceptEvent(String data, CompletionAssembler assembler) {
        String event = data.strip();
        if (event.equals("[DONE]")) {
            return true;
        }
        if (event.isEmpty()) {
            return false;
        }
        JsonNode chunk = parse(event, "a stream event is not JSON");
        if (isError(chunk)) {
            throw errors.forStreamedError(chunk);
        }
        assembler.acceptChunk(chunk);
        return false;
    }

    /** The stream ended without {@code [DONE]}: the answer, when its end came, or a failure. */
    static void streamEnded(CompletionAssembler assembler) {
        if (assembler.finishReason() == null) {
            throw new ModelException("model_connection_lost",
                    "The model server ended the stream before the answer was complete");
        }
    }

    /** Reads what follows {@code [DONE]} (normally just the end of the body) so the connection can be reused. */
    private static void drain(SseReader sse, Watchdog watchdog) {
        watchdog.extend(DRAIN_NANOS);
        try {
            while (sse.nextData() != null) {
                // nothing is expected after [DONE]
            }
        } catch (IOException ignored) {
            // the answer is complete; a failure while draining only costs the connection
        }
    }

    private void readCompletion(InputStream body, CompletionAssembler assembler) throws IOException {
        acceptCompletion(body.readNBytes((int) MAX_COMPLETION_BYTES + 1), assembler);
    }

    /** A whole (not streamed) completion's bytes into the answer; more than {@link #MAX_COMPLETION_BYTES} fail. */
    void acceptCompletion(byte[] bytes, CompletionAssembler assembler) {
        if (bytes.length > MAX_COMPLETION_BYTES) {
            throw CompletionAssembler.badResponse("the completion is too large");
        }
        JsonNode completion = parse(new String(bytes, StandardCharsets.UTF_8), "the completion is not JSON");
        if (isError(completion)) {
            throw errors.forStreamedError(completion);
        }
        assembler.acceptCompletion(completion);
    }

    /** An error object sent with status 200: {@code {"error": {...}}} or vLLM's {@code {"object": "error", ...}}. */
    private static boolean isError(JsonNode node) {
        return !node.has("choices") && (node.hasNonNull("error") || "error".equals(node.path("object").asText()));
    }

    private static byte[] readErrorBody(InputStream body) {
        try {
            return body.readNBytes(UpstreamErrors.MAX_ERROR_BODY);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private JsonNode parse(String text, String what) {
        try {
            JsonNode node = json.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw CompletionAssembler.badResponse(what);
            }
            return node;
        } catch (JsonProcessingException e) {
            throw CompletionAssembler.badResponse(what);
        }
    }

    RuntimeException aborted(Exchange.Abort why, Throwable cause) {
        return switch (why) {
            case CANCELLED -> new RunCancelledException();
            case FIRST_TOKEN_TIMEOUT -> new ModelException("model_timeout",
                    "The model server sent nothing within the first-token timeout of " + human(settings.firstTokenTimeout()),
                    null, cause);
            case IDLE_TIMEOUT -> new ModelException("model_timeout",
                    "The model server stopped sending for longer than the idle timeout of " + human(settings.idleTimeout()),
                    null, cause);
            case TOTAL_TIMEOUT -> new ModelException("model_timeout",
                    "The model call took longer than the total timeout of " + human(settings.totalTimeout()), null, cause);
        };
    }

    HttpRequest httpRequest(byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(settings.endpoint())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json")
                .header("Accept", settings.streaming() ? "text/event-stream" : "application/json");
        if (settings.apiKey() != null) {
            b.header("Authorization", "Bearer " + settings.apiKey());
        }
        settings.headers().forEach(b::header);
        return b.build();
    }

    static String human(Duration d) {
        return d.toMillis() < 10_000 ? d.toMillis() + " ms" : d.toSeconds() + " s";
    }

    private static ScheduledExecutorService watchdogScheduler() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-openai-watchdog");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /** A failure before anything was received, which another attempt may cure. */
    static final class RetryableFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient ModelException error;

        RetryableFailure(ModelException error) {
            super(null, null, false, false);
            this.error = error;
        }
    }

    /** The state of one {@link #complete} call shared with its cancellation callback. */
    private static final class CallState {
        private final Object lock = new Object();
        private final CompletableFuture<Void> cancelled = new CompletableFuture<>();
        private Exchange current;

        void begin(Exchange exchange) {
            synchronized (lock) {
                current = exchange;
            }
            if (cancelled.isDone()) {
                exchange.abort(Exchange.Abort.CANCELLED);
            }
        }

        void cancel() {
            cancelled.complete(null);
            Exchange exchange;
            synchronized (lock) {
                exchange = current;
            }
            if (exchange != null) {
                exchange.abort(Exchange.Abort.CANCELLED);
            }
        }

        /** Waits {@code delay} or until cancelled. */
        void pause(Duration delay) {
            try {
                cancelled.get(delay.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException waited) {
                // the normal way out
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RunCancelledException();
            } catch (ExecutionException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
    }
}
