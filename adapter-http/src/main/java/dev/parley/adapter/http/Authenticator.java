package dev.parley.adapter.http;

import dev.parley.chat.port.in.Caller;
import java.util.Optional;
import java.util.Set;

/**
 * Turns the bearer token of a request (or of a WebSocket {@code auth} frame) into the acting caller:
 * the user's id and roles. Implementations return empty for any token they do not accept (malformed,
 * expired, wrongly signed, ...), throw {@link IdentityProviderUnavailableException} when they cannot
 * tell yet (the API answers 503 {@code unavailable}), and throw anything else only on an internal
 * failure, which the API answers with a 500. Must be thread-safe. {@link JwtAuthenticator} covers
 * signed JWTs with configured keys, {@link OidcAuthenticator} those of an OpenID Connect provider;
 * embedders may plug in their own.
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

    /**
     * The caller (user id and roles) the token proves, or empty when the token is not acceptable;
     * by default {@link #authenticate} and {@link #roles} together. Implementations that verify a
     * token once for both should override it.
     */
    default Optional<Caller> caller(String bearerToken) {
        return authenticate(bearerToken).map(user -> new Caller(user, roles(bearerToken)));
    }
}
