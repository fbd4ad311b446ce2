package dev.parley.adapter.http;

/**
 * An {@link Authenticator} cannot decide about a token now because the identity provider it relies
 * on is not reachable (not discovered yet, or its signing keys cannot be fetched and none are
 * cached). The API answers 503 {@code unavailable}; the message is shown to clients, so it names
 * no more than the configured issuer.
 */
public class IdentityProviderUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public IdentityProviderUnavailableException(String message) {
        super(message);
    }

    public IdentityProviderUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
