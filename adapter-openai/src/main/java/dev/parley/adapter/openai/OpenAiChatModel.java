package dev.parley.adapter.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
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
 * A {@link ChatModel} over the OpenAI Chat Completions wire format ({@code POST
 * {baseUrl}/chat/completions}), for OpenAI, Azure OpenAI and the servers that speak the same
 * format (Ollama, vLLM, llama.cpp server, LM Studio). Built on the JDK {@link HttpClient} and
 * Jackson; no vendor SDK.
 *
 * <pre>{@code
 * ChatModel model = OpenAiChatModel.builder()
 *         .baseUrl("http://localhost:11434/v1")   // Ollama
 *         .model("qwen3:8b")
 *         .idleTimeout(Duration.ofSeconds(30))
 *         .build();
 * }</pre>
 *
 * <p>Streams by default ({@code stream: true}, with {@code stream_options.include_usage}); text
 * deltas go to {@link ModelStreamListener#onToken}, reasoning deltas ({@code reasoning_content},
 * {@code reasoning}, {@code thinking}) to {@link ModelStreamListener#onThinking}. Failures throw
 * {@link ModelException} with the codes documented there; 429, 5xx and connection failures are
 * retried with backoff, honouring {@code Retry-After}, but only while nothing has been received.
 * Cancellation aborts the HTTP exchange at once and closes the connection (the client speaks
 * HTTP/1.1 so that closing a response closes its socket) and throws {@link RunCancelledException}.
 * The API key is never logged nor shown by {@link #toString()}. Thread-safe: one instance serves
 * every run.
 */
public final class OpenAiChatModel implements ChatModel {
    private static final Logger log = LoggerFactory.getLogger(OpenAiChatModel.class);
    private static final long MAX_COMPLETION_BYTES = 32L * 1024 * 1024;
    private static final long DRAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final ScheduledExecutorService WATCHDOGS = watchdogScheduler();

    private final OpenAiSettings settings;
    private final HttpClient http;
    private final ObjectMapper json;
    private final ChatCompletionsRequest requests;
    private final UpstreamErrors errors;

    private OpenAiChatModel(OpenAiSettings settings, ObjectMapper json) {
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

    /** A builder with OpenAI's base URL, streaming on, usage requested and conservative timeouts. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A model configured from environment variables, or empty when neither {@code OPENAI_BASE_URL}
     * nor {@code OPENAI_API_KEY} is set: {@code OPENAI_BASE_URL} (default OpenAI's),
     * {@code OPENAI_API_KEY}, {@code PARLEY_MODEL} (required when configured),
     * {@code OPENAI_ORG_ID}, {@code OPENAI_PROJECT_ID}.
     */
    public static Optional<OpenAiChatModel> fromEnvironment(Map<String, String> env) {
        Objects.requireNonNull(env, "env");
        if (isBlank(env.get("OPENAI_BASE_URL")) && isBlank(env.get("OPENAI_API_KEY"))) {
            return Optional.empty();
        }
        return Optional.of(builder().environment(env).build());
    }

    @Override
    public String defaultModel() {
        return settings.model();
    }

    @Override
    public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(cancellation, "cancellation");
        cancellation.throwIfCancelled();
        HttpRequest httpRequest = httpRequest(requests.body(request));
        long started = System.nanoTime();
        long deadline = started + settings.totalTimeout().toNanos();
        if (log.isDebugEnabled()) {
            log.debug("Chat completion to {} model={} messages={} tools={} streaming={}", settings.endpointForLogs(),
                    requests.modelFor(request), request.messages().size(), request.tools().size(), settings.streaming());
        }
        CallState state = new CallState();
        Cancellation.Registration registration = cancellation.onCancel(state::cancel);
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    ModelResponse response = attempt(httpRequest, listener, state, deadline);
                    cancellation.throwIfCancelled();
                    if (log.isDebugEnabled()) {
                        log.debug("Chat completion done in {} ms: finish={} toolCalls={} usage={}",
                                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), response.finishReason(),
                                response.toolCalls().size(), response.usage() == null ? "none" : "reported");
                    }
                    return response;
                } catch (ModelException e) {
                    log.debug("Chat completion failed: {} {}", e.code(), e.getMessage());
                    throw e;
                } catch (RetryableFailure failure) {
                    ModelException error = failure.error;
                    Duration delay = retryDelay(attempt, error.retryAfter().orElse(null));
                    if (attempt > settings.maxRetries() || delay == null
                            || System.nanoTime() + delay.toNanos() - deadline >= 0) {
                        log.debug("Chat completion failed after {} attempt(s): {}", attempt, error.code());
                        throw error;
                    }
                    log.info("Model server call failed ({}), retry {} of {} in {} ms", error.code(), attempt,
                            settings.maxRetries(), delay.toMillis());
                    state.pause(delay);
                    cancellation.throwIfCancelled();
                }
            }
        } finally {
            registration.close();
        }
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
                byte[] errorBody = readErrorBody(body);
                ModelException error = errors.forStatus(status, response.headers(), errorBody);
                if (UpstreamErrors.retryable(status)) {
                    throw new RetryableFailure(error);
                }
                throw error;
            }
            String contentType = response.headers().firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
            if (!settings.streaming() || contentType.startsWith("application/json")) {
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
            if (e instanceof SseReader.EventTooLargeException) {
                throw CompletionAssembler.badResponse("a stream event is too large");
            }
            if (e instanceof IOException) {
                throw new ModelException("model_connection_lost",
                        "The connection to the model server was lost mid-response", null, e);
            }
            throw (RuntimeException) e;
        } finally {
            watchdog.stop();
            exchange.close();
        }
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
            if (cause instanceof HttpConnectTimeoutException) {
                throw new RetryableFailure(new ModelException("model_timeout",
                        "Could not connect to the model server within " + human(settings.connectTimeout()), null, cause));
            }
            if (cause instanceof ConnectException) {
                throw new RetryableFailure(new ModelException("model_upstream",
                        "Could not connect to the model server", null, cause));
            }
            if (cause instanceof HttpTimeoutException) {
                throw new ModelException("model_timeout", "The model server did not answer in time", null, cause);
            }
            if (cause instanceof SSLException) {
                throw new ModelException("model_upstream", "The TLS handshake with the model server failed", null, cause);
            }
            if (cause instanceof IOException) {
                // closed before any response (e.g. a stale pooled connection): nothing was received yet
                throw new RetryableFailure(new ModelException("model_connection_lost",
                        "The model server closed the connection before answering", null, cause));
            }
            throw new ModelException("model_error", "The model call failed", null, cause);
        }
    }

    private void readStream(InputStream body, CompletionAssembler assembler, Watchdog watchdog) throws IOException {
        SseReader sse = new SseReader(body);
        String data;
        while ((data = sse.nextData()) != null) {
            watchdog.activity();
            String event = data.strip();
            if (event.equals("[DONE]")) {
                drain(sse, watchdog);
                return;
            }
            if (event.isEmpty()) {
                continue;
            }
            JsonNode chunk = parse(event, "a stream event is not JSON");
            if (isError(chunk)) {
                throw errors.forStreamedError(chunk);
            }
            assembler.acceptChunk(chunk);
        }
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
        byte[] bytes = body.readNBytes((int) MAX_COMPLETION_BYTES + 1);
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

    private RuntimeException aborted(Exchange.Abort why, Throwable cause) {
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

    private HttpRequest httpRequest(byte[] body) {
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

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
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

    @Override
    public String toString() {
        return "OpenAiChatModel[" + settings + "]";
    }

    /** A failure before anything was received, which another attempt may cure. */
    private static final class RetryableFailure extends RuntimeException {
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

    /**
     * Configures an {@link OpenAiChatModel}. Defaults: base URL {@code https://api.openai.com/v1},
     * streaming with {@code stream_options.include_usage}, connect timeout 10 s, first-token 120 s,
     * idle 60 s, total 10 min, 2 retries with backoff from 500 ms up to 8 s, and a server-requested
     * {@code Retry-After} honoured up to 30 s (a longer one fails at once, carrying the wait).
     * {@link #toString()} never shows the key or header values.
     */
    public static final class Builder {
        private static final Set<String> RESERVED = Set.of("model", "messages", "tools", "stream", "stream_options");
        private final ObjectMapper json = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_TRAILING_TOKENS, true);
        private String baseUrl = "https://api.openai.com/v1";
        private String apiKey;
        private String model;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private final Map<String, String> query = new LinkedHashMap<>();
        private final Map<String, JsonNode> options = new LinkedHashMap<>();
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration firstTokenTimeout = Duration.ofSeconds(120);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private Duration totalTimeout = Duration.ofMinutes(10);
        private boolean streaming = true;
        private boolean includeUsage = true;
        private int maxRetries = 2;
        private Duration initialBackoff = Duration.ofMillis(500);
        private Duration maxBackoff = Duration.ofSeconds(8);
        private Duration maxRetryAfter = Duration.ofSeconds(30);

        private Builder() {
        }

        /** The API root, e.g. {@code https://api.openai.com/v1} or {@code http://localhost:11434/v1}; {@code /chat/completions} is appended. */
        public Builder baseUrl(String baseUrl) {
            this.baseUrl = Require.notBlank(baseUrl, "baseUrl");
            return this;
        }

        /** The bearer token sent as {@code Authorization}; optional for local servers. Never logged. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** The model asked when a request names none. Required. */
        public Builder model(String model) {
            this.model = model;
            return this;
        }

        /** An extra request header, e.g. Azure's {@code api-key}. Values are never logged. */
        public Builder header(String name, String value) {
            Require.notBlank(name, "header name");
            Require.notNull(value, "header value");
            headers.put(name, value);
            return this;
        }

        /** A query parameter added to the endpoint, e.g. Azure's {@code api-version}. */
        public Builder queryParameter(String name, String value) {
            query.put(Require.notBlank(name, "query parameter name"), Require.notNull(value, "query parameter value"));
            return this;
        }

        /** Sends {@code OpenAI-Organization}. */
        public Builder organization(String organization) {
            return isBlank(organization) ? this : header("OpenAI-Organization", organization);
        }

        /** Sends {@code OpenAI-Project}. */
        public Builder project(String project) {
            return isBlank(project) ? this : header("OpenAI-Project", project);
        }

        /** Longest wait for the TCP (and TLS) connection. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /** Longest wait from sending the request to the first streamed event (streaming mode). */
        public Builder firstTokenTimeout(Duration timeout) {
            this.firstTokenTimeout = timeout;
            return this;
        }

        /** Longest gap between two streamed events (streaming mode). */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = timeout;
            return this;
        }

        /** Longest time for the whole call, retries and backoff included. */
        public Builder totalTimeout(Duration timeout) {
            this.totalTimeout = timeout;
            return this;
        }

        /** Sampling temperature, 0 to 2. */
        public Builder temperature(double temperature) {
            Require.that(temperature >= 0 && temperature <= 2, "temperature must be between 0 and 2");
            options.put("temperature", json.valueToTree(temperature));
            return this;
        }

        /**
         * Another request field passed through as is, e.g. {@code option("max_completion_tokens", 512)},
         * {@code option("reasoning_effort", "low")}. Values are converted with Jackson (strings, numbers,
         * booleans, lists, maps).
         */
        public Builder option(String name, Object value) {
            options.put(checkOption(name), json.valueToTree(value));
            return this;
        }

        /** Another request field given as JSON text, e.g. {@code optionJson("response_format", "{\"type\":\"json_object\"}")}. */
        public Builder optionJson(String name, String jsonValue) {
            try {
                JsonNode value = json.readTree(Require.notBlank(jsonValue, "jsonValue"));
                options.put(checkOption(name), value);
                return this;
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("option " + name + " is not valid JSON");
            }
        }

        /** Streams the answer ({@code stream: true}); when false, one JSON completion is read. */
        public Builder streaming(boolean streaming) {
            this.streaming = streaming;
            return this;
        }

        /** Sends {@code stream_options: {"include_usage": true}}; turn off for servers that reject unknown fields. */
        public Builder includeUsage(boolean includeUsage) {
            this.includeUsage = includeUsage;
            return this;
        }

        /** Retries after 429, 5xx and connection failures, only while nothing was received (0 to 10). */
        public Builder maxRetries(int maxRetries) {
            this.maxRetries = maxRetries;
            return this;
        }

        /** The first backoff (doubled per retry, with jitter) when the server gave no {@code Retry-After}. */
        public Builder initialBackoff(Duration backoff) {
            this.initialBackoff = backoff;
            return this;
        }

        /** The longest backoff computed without {@code Retry-After}. */
        public Builder maxBackoff(Duration backoff) {
            this.maxBackoff = backoff;
            return this;
        }

        /** The longest {@code Retry-After} waited for; a longer one fails at once with {@code retryAfter} set. */
        public Builder maxRetryAfter(Duration wait) {
            this.maxRetryAfter = wait;
            return this;
        }

        /**
         * Applies {@code OPENAI_BASE_URL}, {@code OPENAI_API_KEY}, {@code PARLEY_MODEL},
         * {@code OPENAI_ORG_ID} and {@code OPENAI_PROJECT_ID} when set.
         */
        public Builder environment(Map<String, String> env) {
            Objects.requireNonNull(env, "env");
            if (!isBlank(env.get("OPENAI_BASE_URL"))) {
                baseUrl(env.get("OPENAI_BASE_URL").strip());
            }
            if (!isBlank(env.get("OPENAI_API_KEY"))) {
                apiKey(env.get("OPENAI_API_KEY"));
            }
            if (!isBlank(env.get("PARLEY_MODEL"))) {
                model(env.get("PARLEY_MODEL").strip());
            }
            organization(env.get("OPENAI_ORG_ID"));
            project(env.get("OPENAI_PROJECT_ID"));
            return this;
        }

        /**
         * The model. Throws {@link IllegalArgumentException} for a missing model, a bad URL, a
         * header the JDK client does not allow, or a timeout that is not positive.
         */
        public OpenAiChatModel build() {
            Require.that(!isBlank(model), "model is required (PARLEY_MODEL when configured from the environment)");
            HttpRequest.Builder probe = HttpRequest.newBuilder();
            headers.forEach(probe::header);
            OpenAiSettings settings = new OpenAiSettings(endpoint(), apiKey, model, headers, connectTimeout,
                    firstTokenTimeout, idleTimeout, totalTimeout, options, streaming, includeUsage, maxRetries,
                    initialBackoff, maxBackoff, maxRetryAfter);
            return new OpenAiChatModel(settings, json);
        }

        private URI endpoint() {
            String root = baseUrl.strip();
            while (root.endsWith("/")) {
                root = root.substring(0, root.length() - 1);
            }
            StringBuilder url = new StringBuilder(root).append("/chat/completions");
            char sep = '?';
            for (Map.Entry<String, String> q : query.entrySet()) {
                url.append(sep).append(URLEncoder.encode(q.getKey(), StandardCharsets.UTF_8))
                        .append('=').append(URLEncoder.encode(q.getValue(), StandardCharsets.UTF_8));
                sep = '&';
            }
            URI uri;
            try {
                uri = URI.create(url.toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("baseUrl is not a valid URL");
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            Require.that((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null,
                    "baseUrl must be an http or https URL");
            return uri;
        }

        private static String checkOption(String name) {
            Require.notBlank(name, "option name");
            Require.that(!RESERVED.contains(name), "option " + name + " is set by the model itself");
            return name;
        }

        @Override
        public String toString() {
            return "OpenAiChatModel.Builder[baseUrl=" + baseUrl + ", apiKey=" + (isBlank(apiKey) ? "none" : "***")
                    + ", model=" + model + ", headers=" + headers.keySet() + ", streaming=" + streaming + "]";
        }
    }
}
