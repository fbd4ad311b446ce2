package dev.parley.adapter.http;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.parley.chat.port.in.Caller;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How a verified token's claims become a {@link Caller}: which claim is the user id, which claim
 * holds the roles, and which of the provider's roles is Parley's {@link Caller#ADMIN}.
 *
 * <p>A claim name is looked up as a top-level claim first (so a namespaced claim such as
 * {@code https://parley.example/roles} works as it is), then as a dotted path into nested objects
 * ({@code realm_access.roles} for Keycloak). The user claim must hold a non-blank string of at most
 * {@link JwtAuthenticator#MAX_SUBJECT_LENGTH} characters; the roles claim a list of strings or one
 * string; a role is 1 to 64 characters without control characters, and at most 32 are read. A token whose
 * provider role is {@code adminRole} is an admin; a token that merely carries a role literally named
 * {@code admin} is not, unless {@code adminRole} is {@code admin} too. Immutable.
 *
 * @param userClaim  the claim holding the user id, {@code sub} by default ({@code oid} for Entra ID)
 * @param rolesClaim the claim holding the roles, {@code roles} by default ({@code groups},
 *                   {@code realm_access.roles}, ...)
 * @param adminRole  the provider's role that makes a caller an admin, {@code admin} by default
 */
public record ClaimMapping(String userClaim, String rolesClaim, String adminRole) {
    private static final Pattern CLAIM = Pattern.compile("[A-Za-z0-9_$:/.#@+-]{1,200}");
    private static final Pattern ROLE = Pattern.compile("[^\\p{Cntrl}]{1,64}");
    /** Most roles read from the roles claim. */
    static final int MAX_ROLES = 32;

    public ClaimMapping {
        requireClaim(userClaim, "userClaim");
        requireClaim(rolesClaim, "rolesClaim");
        Objects.requireNonNull(adminRole, "adminRole");
        if (!isRole(adminRole)) {
            throw new IllegalArgumentException("adminRole must be 1 to 64 characters, not blank, without control characters");
        }
    }

    /** {@code sub}, {@code roles}, {@code admin}. */
    public static ClaimMapping defaults() {
        return new ClaimMapping("sub", "roles", Caller.ADMIN);
    }

    public ClaimMapping withUserClaim(String claim) {
        return new ClaimMapping(claim, rolesClaim, adminRole);
    }

    public ClaimMapping withRolesClaim(String claim) {
        return new ClaimMapping(userClaim, claim, adminRole);
    }

    public ClaimMapping withAdminRole(String role) {
        return new ClaimMapping(userClaim, rolesClaim, role);
    }

    private static void requireClaim(String claim, String name) {
        Objects.requireNonNull(claim, name);
        if (!CLAIM.matcher(claim).matches() || claim.startsWith(".") || claim.endsWith(".") || claim.contains("..")) {
            throw new IllegalArgumentException(name + " must be a claim name or a dotted path of claim names (letters, digits, _$:/#@+- and dots)");
        }
    }

    /** The caller the claims prove, or empty when the user claim is missing, not a string, blank or too long. */
    Optional<Caller> caller(JWTClaimsSet claims) {
        Object user = find(claims.getClaims(), userClaim);
        if (!(user instanceof String id) || id.isBlank() || id.length() > JwtAuthenticator.MAX_SUBJECT_LENGTH) {
            return Optional.empty();
        }
        return Optional.of(new Caller(id, roles(claims)));
    }

    /** Parley's roles for the claims: the provider's roles, with {@code adminRole} standing for {@link Caller#ADMIN}. */
    Set<String> roles(JWTClaimsSet claims) {
        Object claim = find(claims.getClaims(), rolesClaim);
        List<Object> values = new ArrayList<>();
        if (claim instanceof List<?> list) {
            values.addAll(list);
        } else if (claim instanceof String s) {
            values.add(s);
        }
        Set<String> roles = new HashSet<>();
        for (Object value : values) {
            if (roles.size() >= MAX_ROLES) {
                break;
            }
            if (value instanceof String role && isRole(role)) {
                roles.add(role);
            }
        }
        boolean admin = roles.contains(adminRole);
        roles.remove(Caller.ADMIN);
        if (admin) {
            roles.add(Caller.ADMIN);
        }
        return Set.copyOf(roles);
    }

    private static boolean isRole(String role) {
        return !role.isBlank() && ROLE.matcher(role).matches();
    }

    /** The claim by its whole name, else by its dotted path; null when absent. */
    static Object find(Map<String, Object> claims, String path) {
        if (claims.containsKey(path)) {
            return claims.get(path);
        }
        Object node = claims;
        for (String part : path.split("\\.")) {
            if (!(node instanceof Map<?, ?> map)) {
                return null;
            }
            node = map.get(part);
        }
        return node == claims ? null : node;
    }
}
