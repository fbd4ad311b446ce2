package dev.parley.examples;

import dev.parley.adapter.http.ClaimMapping;
import dev.parley.adapter.http.OidcAuthenticator;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The demo's OpenID Connect settings, from {@code PARLEY_OIDC_*} environment variables: which
 * provider's tokens the API accepts ({@code PARLEY_OIDC_ISSUER}, {@code PARLEY_OIDC_AUDIENCE}), which
 * claims are the user and the roles ({@code PARLEY_OIDC_USER_CLAIM}, {@code PARLEY_OIDC_ROLES_CLAIM},
 * {@code PARLEY_OIDC_ADMIN_ROLE}), and, for the page's sign-in, the client ({@code PARLEY_OIDC_CLIENT_ID},
 * {@code PARLEY_OIDC_SCOPE}). {@code audience} and {@code clientId} are null when unset.
 */
public record DemoOidc(String issuer, String audience, ClaimMapping claims, String clientId, String scope) {
    static final String DEFAULT_SCOPE = "openid profile email";
    private static final List<String> DEPENDENT = List.of("PARLEY_OIDC_AUDIENCE", "PARLEY_OIDC_USER_CLAIM", "PARLEY_OIDC_ROLES_CLAIM",
            "PARLEY_OIDC_ADMIN_ROLE", "PARLEY_OIDC_CLIENT_ID", "PARLEY_OIDC_SCOPE");
    private static final Pattern CLIENT_ID = Pattern.compile("[\\x21-\\x7e]{1,255}");
    private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,200}");

    /** The settings, or null when {@code PARLEY_OIDC_ISSUER} is unset; a bad value is an error naming its variable. */
    static DemoOidc fromEnvironment(Map<String, String> env) {
        String issuer = text(env, "PARLEY_OIDC_ISSUER");
        if (issuer == null) {
            for (String name : DEPENDENT) {
                if (text(env, name) != null) {
                    throw new IllegalArgumentException(name + " needs PARLEY_OIDC_ISSUER (the identity provider's issuer URL)");
                }
            }
            return null;
        }
        try {
            OidcAuthenticator.issuer(issuer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("PARLEY_OIDC_ISSUER must be the provider's issuer, an http:// or https:// URL"
                    + " without query or fragment, was '" + issuer + "'");
        }
        String audience = text(env, "PARLEY_OIDC_AUDIENCE");
        ClaimMapping claims = ClaimMapping.defaults();
        String userClaim = text(env, "PARLEY_OIDC_USER_CLAIM");
        String rolesClaim = text(env, "PARLEY_OIDC_ROLES_CLAIM");
        String adminRole = text(env, "PARLEY_OIDC_ADMIN_ROLE");
        claims = claim(claims, userClaim, "PARLEY_OIDC_USER_CLAIM", claims::withUserClaim);
        claims = claim(claims, rolesClaim, "PARLEY_OIDC_ROLES_CLAIM", claims::withRolesClaim);
        if (adminRole != null) {
            try {
                claims = claims.withAdminRole(adminRole);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("PARLEY_OIDC_ADMIN_ROLE must be 1 to 64 characters without control characters, was '"
                        + adminRole + "'");
            }
        }
        String clientId = text(env, "PARLEY_OIDC_CLIENT_ID");
        if (clientId != null && !CLIENT_ID.matcher(clientId).matches()) {
            throw new IllegalArgumentException("PARLEY_OIDC_CLIENT_ID must be 1 to 255 printable characters without spaces, was '"
                    + clientId + "'");
        }
        String scope = text(env, "PARLEY_OIDC_SCOPE");
        if (scope == null) {
            scope = DEFAULT_SCOPE;
        } else {
            List<String> tokens = List.of(scope.split("\\s+"));
            if (!tokens.contains("openid") || !tokens.stream().allMatch(t -> SCOPE_TOKEN.matcher(t).matches())) {
                throw new IllegalArgumentException("PARLEY_OIDC_SCOPE must be space-separated scopes including openid, was '" + scope + "'");
            }
        }
        return new DemoOidc(issuer, audience, claims, clientId, scope);
    }

    private static ClaimMapping claim(ClaimMapping claims, String value, String name,
                                      java.util.function.Function<String, ClaimMapping> with) {
        if (value == null) {
            return claims;
        }
        try {
            return with.apply(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " must be a claim name or a dotted path of claim names such as oid or"
                    + " realm_access.roles, was '" + value + "'");
        }
    }

    /** The authenticator for these settings; it discovers the provider now or keeps trying in the background. */
    OidcAuthenticator authenticator() {
        return OidcAuthenticator.issuer(issuer).audience(audience).claims(claims).build();
    }

    /** The issuer's origin ({@code https://id.example}), which the page may call (its token endpoint). */
    String issuerOrigin() {
        URI uri = URI.create(issuer);
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }

    private static String text(Map<String, String> env, String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : value.strip();
    }

    @Override
    public String toString() {
        return "oidc[issuer=" + issuer + ", audience=" + audience + ", userClaim=" + claims.userClaim() + ", rolesClaim="
                + claims.rolesClaim() + ", adminRole=" + claims.adminRole() + ", clientId=" + clientId + ", scope=" + scope + "]";
    }
}
