package dev.parley.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.OidcAuthenticator;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.util.Optional;

/**
 * What the page needs to sign users in through the identity provider (authorization code flow
 * with PKCE, in {@code web/oidc.js}): {@code GET /oidc.json} answers the issuer, the client id, the
 * scope and the provider's endpoints, or 503 {@code unavailable} until the provider has been
 * discovered. Registered only when {@code PARLEY_OIDC_CLIENT_ID} is set (otherwise 404, and the page
 * offers no provider sign-in).
 */
final class OidcLogin {
    static final String PATH = "/oidc.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DemoOidc settings;
    private final OidcAuthenticator authenticator;

    OidcLogin(DemoOidc settings, OidcAuthenticator authenticator) {
        this.settings = settings;
        this.authenticator = authenticator;
    }

    void install(JavalinConfig cfg) {
        cfg.routes.get(PATH, this::config);
    }

    private void config(Context ctx) {
        ctx.header("Cache-Control", "no-store");
        Optional<OidcAuthenticator.Endpoints> endpoints = authenticator.endpoints();
        if (endpoints.isEmpty() || endpoints.get().authorization() == null || endpoints.get().token() == null) {
            ObjectNode problem = JSON.createObjectNode()
                    .put("type", "about:blank").put("title", "Service Unavailable").put("status", 503).put("code", "unavailable")
                    .put("detail", "The identity provider " + settings.issuer() + " is not reachable yet; retry later");
            ctx.status(503).header("Retry-After", "5").contentType("application/problem+json").result(problem.toString());
            return;
        }
        ObjectNode body = JSON.createObjectNode()
                .put("issuer", settings.issuer())
                .put("client_id", settings.clientId())
                .put("scope", settings.scope())
                .put("authorization_endpoint", endpoints.get().authorization())
                .put("token_endpoint", endpoints.get().token());
        if (endpoints.get().endSession() != null) {
            body.put("end_session_endpoint", endpoints.get().endSession());
        }
        ctx.contentType("application/json").result(body.toString());
    }
}
