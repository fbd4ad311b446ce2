package dev.parley.adapter.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.Require;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The validated configuration of one {@link OpenAiChatModel}. {@link #toString()} never shows the
 * API key nor any header value (headers such as Azure's {@code api-key} carry secrets too).
 */
record OpenAiSettings(
        URI endpoint,
        String apiKey,
        String model,
        Map<String, String> headers,
        Duration connectTimeout,
        Duration firstTokenTimeout,
        Duration idleTimeout,
        Duration totalTimeout,
        Map<String, JsonNode> options,
        boolean streaming,
        boolean includeUsage,
        int maxRetries,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration maxRetryAfter,
        String maxTokensParameter) {

    /** OpenAI's name of the output token limit (its older name {@code max_tokens} is deprecated there). */
    static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";
    /** The older name, the only one some servers (Ollama's OpenAI endpoint) read. */
    static final String MAX_TOKENS = "max_tokens";

    OpenAiSettings {
        Require.notNull(endpoint, "endpoint");
        apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
        Require.notBlank(model, "model");
        headers = Map.copyOf(new LinkedHashMap<>(Require.notNull(headers, "headers")));
        positive(connectTimeout, "connectTimeout");
        positive(firstTokenTimeout, "firstTokenTimeout");
        positive(idleTimeout, "idleTimeout");
        positive(totalTimeout, "totalTimeout");
        options = Map.copyOf(Require.notNull(options, "options"));
        Require.inRange(maxRetries, 0, 10, "maxRetries");
        positive(initialBackoff, "initialBackoff");
        positive(maxBackoff, "maxBackoff");
        Require.notNull(maxRetryAfter, "maxRetryAfter");
        Require.that(!maxRetryAfter.isNegative(), "maxRetryAfter must not be negative");
        Require.that(MAX_COMPLETION_TOKENS.equals(maxTokensParameter) || MAX_TOKENS.equals(maxTokensParameter),
                "maxTokensParameter must be max_completion_tokens or max_tokens");
    }

    private static void positive(Duration d, String name) {
        Require.notNull(d, name);
        Require.that(!d.isZero() && !d.isNegative(), name + " must be positive");
    }

    /** The endpoint without query string, for log lines (a query may carry secrets). */
    String endpointForLogs() {
        return endpoint.getScheme() + "://" + endpoint.getAuthority() + endpoint.getPath();
    }

    @Override
    public String toString() {
        return "OpenAiSettings[endpoint=" + endpointForLogs()
                + ", apiKey=" + (apiKey == null ? "none" : "***")
                + ", model=" + model
                + ", headers=" + headers.keySet()
                + ", connectTimeout=" + connectTimeout
                + ", firstTokenTimeout=" + firstTokenTimeout
                + ", idleTimeout=" + idleTimeout
                + ", totalTimeout=" + totalTimeout
                + ", options=" + options.keySet()
                + ", streaming=" + streaming
                + ", includeUsage=" + includeUsage
                + ", maxRetries=" + maxRetries
                + ", maxTokensParameter=" + maxTokensParameter + "]";
    }
}
