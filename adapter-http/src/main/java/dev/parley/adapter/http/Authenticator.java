package dev.parley.adapter.http;

import java.util.Optional;
import java.util.Set;

/**
 * Turns the bearer token of a request (or of a WebSocket {@code auth} frame) into the acting user's
 * id. Implementations return empty for any token they do not accept (malformed, expired, wrongly
 * signed, ...) and throw only on an internal failure, which the API answers with a 500. Must be
 * thread-safe. {@link JwtAuthenticator} covers signed JWTs; embedders may plug in their own.
 */
@FunctionalInterface
public interface Authenticator {

    /** The user id the token proves, or empty when the token is not acceptable. */
    Optional<String> authenticate(String bearerToken);

    /**
     * The roles a token that {@link #authenticate} accepted grants (e.g. {@code admin}, which may
     * create and change shared agents); empty by default.
     */
    default Set<String> roles(String bearerToken) {
        return Set.of();
    }
}
