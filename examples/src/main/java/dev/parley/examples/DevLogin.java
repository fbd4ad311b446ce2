package dev.parley.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;

/**
 * The demo's sign-in: {@code POST /dev/login {"user": "alice"}} answers
 * {@code {"token": "<HS256 JWT with sub=alice>", "user": "alice", "expires_at": "..."}};
 * {@code "roles": ["admin"]} in the body puts that {@code roles} claim in the token (the admin may
 * create and change shared agents) and the answer. It trusts whatever name and role it is given, which is why it exists only in the demo and can be switched off
 * ({@code PARLEY_DEV_LOGIN=false}: the route is then not registered at all and answers 404).
 */
final class DevLogin {
    static final String PATH = "/dev/login";
    static final Duration TOKEN_LIFETIME = Duration.ofHours(12);
    static final int MAX_USER_LENGTH = 64;
    /** The only role the demo hands out. */
    static final String ADMIN = "admin";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MACSigner signer;
    private final Clock clock;

    DevLogin(byte[] secret, Clock clock) {
        try {
            this.signer = new MACSigner(secret);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("the JWT secret must be at least 256 bits", e);
        }
        this.clock = clock;
    }

    void install(JavalinConfig cfg) {
        cfg.routes.post(PATH, this::login);
    }

    /** A signed HS256 token for {@code user}, valid for {@link #TOKEN_LIFETIME}. */
    String mint(String user, Instant now) {
        return mint(user, List.of(), now);
    }

    /** A signed HS256 token for {@code user} with the {@code roles} claim when {@code roles} is not empty. */
    String mint(String user, List<String> roles, Instant now) {
        JWTClaimsSet.Builder builder = new JWTClaimsSet.Builder();
        if (!roles.isEmpty()) {
            builder.claim("roles", roles);
        }
        JWTClaimsSet claims = builder
                .subject(user)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(TOKEN_LIFETIME)))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a token failed", e);
        }
        return jwt.serialize();
    }

    private void login(Context ctx) {
        JsonNode body;
        try {
            body = JSON.readTree(ctx.bodyAsBytes());
        } catch (IOException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            problem(ctx, 400, "invalid_json", "Bad request", "The body must be a JSON object like {\"user\": \"alice\"}.", null);
            return;
        }
        JsonNode userNode = body.get("user");
        String user = userNode != null && userNode.isTextual() ? userNode.asText().strip() : null;
        String invalid = validate(user);
        if (invalid != null) {
            problem(ctx, 422, "validation_failed", "Validation failed", invalid, "user");
            return;
        }
        List<String> roles = roles(body.get("roles"));
        if (roles == null) {
            problem(ctx, 422, "validation_failed", "Validation failed", "roles must be a list holding at most \"" + ADMIN + "\".", "roles");
            return;
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        ObjectNode answer = JSON.createObjectNode()
                .put("token", mint(user, roles, now))
                .put("user", user)
                .put("expires_at", now.plus(TOKEN_LIFETIME).toString());
        roles.forEach(answer.putArray("roles")::add);
        ctx.status(200).contentType("application/json").result(answer.toString());
    }

    /** The asked roles: absent or null is none; a list of {@code "admin"} only; anything else is null. */
    private static List<String> roles(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            return null;
        }
        for (JsonNode role : node) {
            if (!role.isTextual() || !role.asText().equals(ADMIN)) {
                return null;
            }
        }
        return node.isEmpty() ? List.of() : List.of(ADMIN);
    }

    private static String validate(String user) {
        if (user == null || user.isEmpty()) {
            return "user must be a non-empty string.";
        }
        if (user.codePointCount(0, user.length()) > MAX_USER_LENGTH) {
            return "user must be at most " + MAX_USER_LENGTH + " characters.";
        }
        boolean printable = user.codePoints().noneMatch(cp -> Character.isISOControl(cp)
                || Character.getType(cp) == Character.SURROGATE || Character.getType(cp) == Character.FORMAT);
        return printable ? null : "user must not contain control characters.";
    }

    private static void problem(Context ctx, int status, String code, String title, String detail, String field) {
        ObjectNode problem = JSON.createObjectNode()
                .put("type", "about:blank")
                .put("title", title)
                .put("status", status)
                .put("detail", detail)
                .put("code", code);
        if (field != null) {
            problem.putArray("errors").addObject().put("field", field).put("message", detail);
        }
        ctx.status(status).contentType("application/problem+json").result(problem.toString());
    }
}
