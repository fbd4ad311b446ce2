package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The provider metadata Parley needs, read from {@code <issuer>/.well-known/openid-configuration}
 * (OpenID Connect Discovery 1.0): the JWKS URL and the signing algorithms, and for a page that signs
 * users in, the endpoints. The document's {@code issuer} must be exactly the configured one.
 */
record OidcDiscovery(String issuer, URL jwksUri, Set<JWSAlgorithm> algorithms, OidcAuthenticator.Endpoints endpoints) {
    /** The asymmetric algorithms accepted; never {@code none}, never HS* (a public key is no secret). */
    static final List<JWSAlgorithm> ASYMMETRIC = List.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    private static final int MAX_DOCUMENT_BYTES = 256 * 1024;

    /** Fetches and checks the issuer's metadata; an {@link IOException} says why it could not. */
    static OidcDiscovery fetch(HttpClient http, String issuer, Duration timeout) throws IOException {
        URI uri = URI.create(stripSlash(issuer) + "/.well-known/openid-configuration");
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json").GET().build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + uri, e);
        }
        if (response.statusCode() != 200) {
            throw new IOException(uri + " answered " + response.statusCode());
        }
        if (response.body().length > MAX_DOCUMENT_BYTES) {
            throw new IOException(uri + " is larger than " + MAX_DOCUMENT_BYTES + " bytes");
        }
        return parse(issuer, Json.MAPPER.readTree(response.body()));
    }

    static OidcDiscovery parse(String issuer, JsonNode document) throws IOException {
        if (document == null || !document.isObject()) {
            throw new IOException("the discovery document is not a JSON object");
        }
        String declared = document.path("issuer").asText("");
        if (!stripSlash(declared).equals(stripSlash(issuer))) {
            throw new IOException("the discovery document names issuer '" + declared + "', not '" + issuer + "'");
        }
        String jwks = document.path("jwks_uri").asText("");
        URL jwksUri;
        try {
            URI parsed = URI.create(jwks);
            if (!"https".equals(parsed.getScheme()) && !"http".equals(parsed.getScheme())) {
                throw new IllegalArgumentException("not http(s)");
            }
            jwksUri = parsed.toURL();
        } catch (IllegalArgumentException | IOException e) {
            throw new IOException("the discovery document has no usable jwks_uri ('" + jwks + "')", e);
        }
        Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
        for (JsonNode alg : document.path("id_token_signing_alg_values_supported")) {
            JWSAlgorithm parsed = JWSAlgorithm.parse(alg.asText(""));
            if (ASYMMETRIC.contains(parsed)) {
                algorithms.add(parsed);
            }
        }
        if (algorithms.isEmpty()) {
            algorithms.add(JWSAlgorithm.RS256); // the algorithm every OpenID provider must support
        }
        OidcAuthenticator.Endpoints endpoints = new OidcAuthenticator.Endpoints(httpUrl(document, "authorization_endpoint"),
                httpUrl(document, "token_endpoint"), httpUrl(document, "end_session_endpoint"));
        return new OidcDiscovery(declared, jwksUri, Set.copyOf(algorithms), endpoints);
    }

    /** An http(s) URL member of the document, or null when it is absent or not one. */
    private static String httpUrl(JsonNode document, String name) {
        String value = document.path(name).asText("");
        try {
            URI uri = URI.create(value);
            return ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null ? value : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
