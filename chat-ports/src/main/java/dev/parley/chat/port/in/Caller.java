package dev.parley.chat.port.in;

import java.util.Set;

/**
 * Who acts: the user id (null for an anonymous caller, who may only read built-in and shared
 * agents) and the roles the caller's credentials grant (read from the token by the HTTP adapter's
 * authenticator: the {@code roles} claim by default, or the claim an identity provider uses, with
 * the provider's admin role standing for {@link #ADMIN}).
 */
public record Caller(String userId, Set<String> roles) {
    /** The role that may create and change shared agents. */
    public static final String ADMIN = "admin";

    public Caller {
        roles = roles == null ? Set.of() : Set.copyOf(roles);
    }

    public static Caller user(String userId) {
        return new Caller(userId, Set.of());
    }

    public static Caller admin(String userId) {
        return new Caller(userId, Set.of(ADMIN));
    }

    public static Caller anonymous() {
        return new Caller(null, Set.of());
    }

    public boolean isAdmin() {
        return userId != null && roles.contains(ADMIN);
    }
}
