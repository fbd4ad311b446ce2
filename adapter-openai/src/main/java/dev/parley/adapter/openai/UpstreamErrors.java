package dev.parley.adapter.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ModelException;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns what an upstream server said about a failure into a {@link ModelException} with a stable
 * code and a sanitized message: at most a short excerpt of the server's own error message, with
 * the API key and anything that looks like a credential removed.
 */
final class UpstreamErrors {
    static final int MAX_EXCERPT = 200;
    static final int MAX_ERROR_BODY = 16 * 1024;

    private static final Pattern SECRET_LIKE = Pattern.compile(
            "(?i)(sk-[A-Za-z0-9_*\\-]{4,}|bearer\\s+\\S+|api[-_]?key[\"'=:\\s]+\\S+)");
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cntrl}&&[^\\t]]+");

    private final ObjectMapper json;
    private final String apiKey;

    UpstreamErrors(ObjectMapper json, String apiKey) {
        this.json = json;
        this.apiKey = apiKey;
    }

    /** Whether a failed status is worth another attempt (before any delta was emitted). */
    static boolean retryable(int status) {
        return status == 429 || status >= 500;
    }

    /** The exception for an HTTP error status with the (possibly truncated) error body. */
    ModelException forStatus(int status, HttpHeaders headers, byte[] body) {
        String excerpt = excerpt(body);
        String detail = excerpt.isEmpty() ? "" : ": " + excerpt;
        Duration retryAfter = retryAfter(headers).orElse(null);
        return switch (status) {
            case 401, 403 -> new ModelException("model_auth",
                    "The model server refused the credentials (HTTP " + status + ")" + detail);
            case 404 -> new ModelException("model_not_found",
                    "The model server does not know this model or endpoint (HTTP 404)" + detail);
            case 408 -> new ModelException("model_timeout",
                    "The model server timed out the request (HTTP 408)" + detail);
            case 429 -> new ModelException("model_rate_limited",
                    "The model server is rate limiting requests (HTTP 429)" + detail, retryAfter, null);
            default -> status >= 500
                    ? new ModelException("model_upstream",
                            "The model server failed (HTTP " + status + ")" + detail, retryAfter, null)
                    : new ModelException("model_error",
                            "The model server rejected the request (HTTP " + status + ")" + detail);
        };
    }

    /** The exception for an error object sent inside a 200 stream ({@code data: {"error": ...}}). */
    ModelException forStreamedError(JsonNode error) {
        String message = sanitize(messageOf(error));
        return new ModelException("model_upstream",
                "The model server reported an error mid-stream" + (message.isEmpty() ? "" : ": " + message));
    }

    /** A short, credential-free excerpt of the server's error message. */
    String excerpt(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        String text = new String(body, StandardCharsets.UTF_8);
        String message;
        try {
            JsonNode node = json.readTree(text);
            message = node == null ? text : messageOf(node);
        } catch (java.io.IOException notJson) {
            message = text;
        }
        return sanitize(message);
    }

    private static String messageOf(JsonNode node) {
        JsonNode error = node.has("error") ? node.get("error") : node;
        if (error.isTextual()) {
            return error.asText();
        }
        if (error.hasNonNull("message") && error.get("message").isTextual()) {
            return error.get("message").asText();
        }
        if (error.hasNonNull("detail") && error.get("detail").isTextual()) {
            return error.get("detail").asText();
        }
        return "";
    }

    /** Removes the API key and credential-like words, control characters, and cuts to a short excerpt. */
    String sanitize(String text) {
        if (text == null) {
            return "";
        }
        String s = text;
        if (apiKey != null) {
            s = s.replace(apiKey, "***");
        }
        s = SECRET_LIKE.matcher(s).replaceAll("***");
        s = CONTROL.matcher(s).replaceAll(" ").strip();
        if (s.length() > MAX_EXCERPT) {
            s = s.substring(0, MAX_EXCERPT) + "...";
        }
        return s;
    }

    /**
     * The wait a server asked for: {@code retry-after-ms} (milliseconds, sent by OpenAI and Azure)
     * or {@code Retry-After} (seconds or an HTTP date).
     */
    static Optional<Duration> retryAfter(HttpHeaders headers) {
        if (headers == null) {
            return Optional.empty();
        }
        Optional<String> ms = headers.firstValue("retry-after-ms");
        if (ms.isPresent()) {
            try {
                double millis = Double.parseDouble(ms.get().strip());
                if (millis >= 0 && millis < 1e12) {
                    return Optional.of(Duration.ofNanos((long) (millis * 1_000_000)));
                }
            } catch (NumberFormatException ignored) {
                // fall back to Retry-After
            }
        }
        Optional<String> value = headers.firstValue("retry-after");
        if (value.isEmpty()) {
            return Optional.empty();
        }
        String v = value.get().strip();
        try {
            double seconds = Double.parseDouble(v);
            if (seconds >= 0 && seconds < 1e9) {
                return Optional.of(Duration.ofMillis((long) (seconds * 1000)));
            }
            return Optional.empty();
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(Instant.now(), at);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }
}
