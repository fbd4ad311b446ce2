package dev.parley.adapter.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

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
 * every run. An {@link AsyncChatModel}: {@link #completeAsync} makes the same call with no thread waiting
 * for it (the core's runs use it), {@link #complete} reads the response on the calling thread.
 */
public final class OpenAiChatModel implements AsyncChatModel {
    private final OpenAiSettings settings;
    private final ChatCompletionsClient client;

    private OpenAiChatModel(OpenAiSettings settings, ObjectMapper json) {
        this.settings = settings;
        this.client = new ChatCompletionsClient(settings, json);
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
        return client.complete(request, listener, cancellation);
    }

    /**
     * The same call as {@link #complete} without a thread waiting for it: the response is read as it arrives,
     * on the HTTP client's threads (where the listener hears its deltas), and the stage completes with the
     * answer or fails as {@link #complete} would throw. A run of the core waits for it without a thread.
     */
    @Override
    public CompletionStage<ModelResponse> completeAsync(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        return client.completeAsync(request, listener, cancellation);
    }

    /** See {@link ChatCompletionsClient#retryDelay}. */
    Duration retryDelay(int attempt, Duration retryAfter) {
        return client.retryDelay(attempt, retryAfter);
    }

    /** See {@link ChatCompletionsClient#readStreamedAnswer}: a seam for tests that feed a stream arbitrary bytes. */
    ModelResponse readStreamedAnswer(InputStream body, ModelStreamListener listener) {
        return client.readStreamedAnswer(body, listener);
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    @Override
    public String toString() {
        return "OpenAiChatModel[" + settings + "]";
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
        // buffers go back to a shared pool after each use instead of being kept per (virtual) thread
        private final ObjectMapper json = JsonMapper.builder(JsonFactory.builder()
                        .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                        .build())
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
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
        private String maxTokensParameter = OpenAiSettings.MAX_COMPLETION_TOKENS;

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
         * The request field that carries a run's output token limit ({@code ModelSettings.maxOutputTokens}):
         * {@code max_completion_tokens} (the default, OpenAI's) or {@code max_tokens}, the older name that
         * some servers (Ollama's OpenAI endpoint) read instead.
         */
        public Builder maxTokensParameter(String name) {
            this.maxTokensParameter = name;
            return this;
        }

        /**
         * Applies {@code OPENAI_BASE_URL}, {@code OPENAI_API_KEY}, {@code PARLEY_MODEL},
         * {@code OPENAI_ORG_ID}, {@code OPENAI_PROJECT_ID} and {@code OPENAI_MAX_TOKENS_PARAMETER} when set.
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
            if (!isBlank(env.get("OPENAI_MAX_TOKENS_PARAMETER"))) {
                maxTokensParameter(env.get("OPENAI_MAX_TOKENS_PARAMETER").strip());
            }
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
                    initialBackoff, maxBackoff, maxRetryAfter, maxTokensParameter);
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
