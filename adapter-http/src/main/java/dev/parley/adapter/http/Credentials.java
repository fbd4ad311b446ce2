package dev.parley.adapter.http;

import dev.parley.chat.port.in.Caller;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.OptionalLong;

/** Who is calling and how often: bearer tokens (REST, the WebSocket's header and auth frame, the metrics token) and the rate limit. */
final class Credentials {
    private final Authenticator authenticator;
    private final RateLimiter rateLimiter;

    Credentials(Authenticator authenticator, RateLimiter rateLimiter) {
        this.authenticator = authenticator;
        this.rateLimiter = rateLimiter;
    }

    /** The user a bare token (the WebSocket's auth frame) proves, if any. */
    Optional<String> user(String token) {
        return token == null || token.isEmpty() ? Optional.empty() : authenticator.caller(token).map(Caller::userId);
    }

    /** The caller a bearer header proves; otherwise a 401 problem. */
    Caller authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new ApiProblem(401, "unauthorized", "A bearer token is required")
                    .header("WWW-Authenticate", "Bearer realm=\"parley\"");
        }
        String token = bearerToken(authorization);
        Optional<Caller> caller = token == null ? Optional.empty() : authenticator.caller(token);
        return caller.orElseThrow(() -> new ApiProblem(401, "unauthorized", "The bearer token is missing, malformed, expired or not valid")
                .header("WWW-Authenticate", "Bearer realm=\"parley\", error=\"invalid_token\""));
    }

    static String bearerToken(String authorization) {
        String trimmed = authorization.trim();
        if (trimmed.length() < 8 || !trimmed.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = trimmed.substring(7).trim();
        return token.isEmpty() ? null : token;
    }

    /** Takes one request from the user's bucket; a 429 problem when it is empty. */
    void rateLimit(String userId) {
        if (rateLimiter == null) {
            return;
        }
        OptionalLong retryAfter = rateLimiter.tryAcquire(userId);
        if (retryAfter.isPresent()) {
            throw new ApiProblem(429, "rate_limited", "Too many requests; retry after " + retryAfter.getAsLong() + " s")
                    .header("Retry-After", Long.toString(retryAfter.getAsLong()));
        }
    }

    /** Checks a bearer header against the metrics token (null: none needed); a 401 problem otherwise. */
    static void requireMetricsToken(String authorization, String expected) {
        if (expected == null) {
            return;
        }
        String token = authorization == null ? null : bearerToken(authorization);
        if (token == null || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiProblem(401, "unauthorized", "The metrics token is missing or wrong")
                    .header("WWW-Authenticate", "Bearer realm=\"parley-metrics\"");
        }
    }
}
