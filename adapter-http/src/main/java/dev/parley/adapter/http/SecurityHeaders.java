package dev.parley.adapter.http;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The browser-facing security headers of the API's answers: {@code X-Content-Type-Options: nosniff},
 * {@code Referrer-Policy}, {@code X-Frame-Options: DENY}, a {@code Content-Security-Policy} that
 * always says {@code frame-ancestors 'none'}, and {@code Strict-Transport-Security} when the server
 * is told it runs behind TLS.
 *
 * <p>Three policies: the API's own answers (JSON, problems, event streams) get
 * {@link #API_POLICY}, which lets them load nothing; {@code /docs} gets {@link #DOCS_POLICY}; with
 * {@link Builder#wholeApp(boolean)} every other answer of the embedding app (its pages, static files
 * and routes) gets the page policy, by default {@code 'self'} for everything (and {@code data:} images), scripts and styles
 * from files only, {@code connect-src} open to the server's own WebSocket ({@code ws:}/{@code wss:}
 * of the request's host), no plugins, no {@code <base>}, no framing.
 *
 * <p>A header the app has already set on the answer is never replaced, and the app's own handlers
 * that set one later win: the headers are set by a before-handler, only where absent.
 */
public final class SecurityHeaders {
    /** The CSP of the API's own answers: they are data, never a document that loads anything. */
    public static final String API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
    /**
     * The CSP of {@code /docs}: Swagger UI's files from this server, the OpenAPI document and the
     * API calls of "Try it out" to it. Swagger UI's stylesheet embeds its icons as {@code data:} images.
     */
    public static final String DOCS_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    /** HSTS for a year when {@link Builder#behindTls(boolean)}; subdomains are not included (that is the site's decision). */
    public static final Duration HSTS_MAX_AGE = Duration.ofDays(365);
    static final String DEFAULT_REFERRER_POLICY = "no-referrer";

    /** {@code data:} images: harmless (an image runs no script), and pages use them for an empty favicon or CSS icons. */
    private static final String PAGE_POLICY_HEAD = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'";
    private static final String PAGE_POLICY_TAIL = "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    /** A host name, IPv4 or bracketed IPv6 address, with an optional port: safe to repeat inside a header. */
    private static final Pattern HOST = Pattern.compile(
            "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
                    + "|\\[[0-9A-Fa-f:.]{2,45}])(?::[0-9]{1,5})?");

    private static final SecurityHeaders OFF = new SecurityHeaders(false, false, null, null, false, "");

    private final boolean enabled;
    private final boolean behindTls;
    private final String referrerPolicy;
    private final String pagePolicy;
    private final boolean wholeApp;
    /** Origins the default page policy lets the page connect to besides its own ({@code " https://id.example"}...), or "". */
    private final String connectSources;

    private SecurityHeaders(boolean enabled, boolean behindTls, String referrerPolicy, String pagePolicy, boolean wholeApp,
                            String connectSources) {
        this.enabled = enabled;
        this.connectSources = connectSources;
        this.behindTls = behindTls;
        this.referrerPolicy = referrerPolicy;
        this.pagePolicy = pagePolicy;
        this.wholeApp = wholeApp;
    }

    /** The defaults: every header but HSTS, on the API's own answers only. */
    public static SecurityHeaders defaults() {
        return builder().build();
    }

    /** No security headers at all from the API (e.g. a proxy in front sets them). */
    public static SecurityHeaders off() {
        return OFF;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether the API sets any header. */
    public boolean enabled() {
        return enabled;
    }

    /** Whether {@code Strict-Transport-Security} is sent. */
    public boolean behindTls() {
        return behindTls;
    }

    /** Whether the embedding app's own answers get the headers and the page policy too. */
    public boolean wholeApp() {
        return wholeApp;
    }

    /** The page policy for a request to {@code host} (its {@code Host} header, possibly null). */
    String pagePolicy(String host) {
        if (pagePolicy != null) {
            return pagePolicy;
        }
        if (host == null || !HOST.matcher(host).matches()) {
            return PAGE_POLICY_HEAD + connectSources + PAGE_POLICY_TAIL;
        }
        String h = host.toLowerCase(Locale.ROOT);
        return PAGE_POLICY_HEAD + " ws://" + h + " wss://" + h + connectSources + PAGE_POLICY_TAIL;
    }

    /**
     * Registers the headers on {@code cfg}: for every path when {@code standalone} or
     * {@link #wholeApp()}, else only for the paths the API owns.
     */
    void install(JavalinConfig cfg, boolean standalone, boolean metricsRoute) {
        if (!enabled) {
            return;
        }
        Handler handler = ctx -> apply(ctx, standalone);
        if (standalone || wholeApp) {
            cfg.routes.before(handler);
        } else {
            for (String path : ownedPaths(metricsRoute)) {
                cfg.routes.before(path, handler);
            }
        }
        // an upgrade request runs only these, not the before-handlers; a refused upgrade is an answer too
        cfg.routes.wsBeforeUpgrade(Api.BASE + "/ws", handler);
    }

    private static List<String> ownedPaths(boolean metricsRoute) {
        List<String> paths = new ArrayList<>(List.of(Api.BASE + "/<rest>", "/health", "/ready", "/openapi.json", "/docs",
                "/docs/<rest>"));
        if (metricsRoute) {
            paths.add("/metrics");
        }
        return paths;
    }

    private void apply(Context ctx, boolean standalone) {
        HttpServletResponse res = ctx.res();
        setIfAbsent(res, "X-Content-Type-Options", "nosniff");
        setIfAbsent(res, "X-Frame-Options", "DENY");
        setIfAbsent(res, "Referrer-Policy", referrerPolicy);
        if (behindTls) {
            setIfAbsent(res, "Strict-Transport-Security", "max-age=" + HSTS_MAX_AGE.toSeconds());
        }
        if (!res.containsHeader("Content-Security-Policy")) {
            res.setHeader("Content-Security-Policy", policy(ctx.path(), standalone, ctx.header("Host")));
        }
    }

    private String policy(String path, boolean standalone, String host) {
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        if (p.equals("/docs")) {
            return DOCS_POLICY;
        }
        if (standalone || isOwned(p)) {
            return API_POLICY;
        }
        return pagePolicy(host);
    }

    private static boolean isOwned(String path) {
        return path.equals(Api.BASE) || path.startsWith(Api.BASE + "/") || path.startsWith("/docs/")
                || path.equals("/health") || path.equals("/ready") || path.equals("/openapi.json") || path.equals("/metrics");
    }

    private static void setIfAbsent(HttpServletResponse res, String name, String value) {
        if (!res.containsHeader(name)) {
            res.setHeader(name, value);
        }
    }

    /** Builder with the documented defaults. */
    public static final class Builder {
        private boolean behindTls;
        private String referrerPolicy = DEFAULT_REFERRER_POLICY;
        private String pagePolicy;
        private boolean wholeApp;
        private final StringBuilder connectSources = new StringBuilder();

        private Builder() {}

        /**
         * Whether browsers reach the server over TLS (directly or through a proxy that terminates it):
         * then every answer carries {@code Strict-Transport-Security: max-age=31536000}. Off by
         * default, for plain-HTTP development on localhost.
         */
        public Builder behindTls(boolean behindTls) {
            this.behindTls = behindTls;
            return this;
        }

        /** The {@code Referrer-Policy}, default {@code no-referrer}. */
        public Builder referrerPolicy(String policy) {
            this.referrerPolicy = requireHeaderValue(policy, "policy");
            return this;
        }

        /**
         * Also sets the headers on every answer of the embedding app's own routes, pages and static
         * files (where the app did not set them), with the page policy as their CSP. Off by default:
         * mounted, the API leaves the rest of the app alone.
         */
        public Builder wholeApp(boolean wholeApp) {
            this.wholeApp = wholeApp;
            return this;
        }

        /**
         * The CSP of the embedding app's answers under {@link #wholeApp(boolean)}, instead of the
         * default strict page policy. It should keep {@code frame-ancestors 'none'} (or a list of
         * origins allowed to frame the app).
         */
        public Builder pagePolicy(String policy) {
            this.pagePolicy = requireHeaderValue(policy, "policy");
            return this;
        }

        /**
         * Lets the page of the default page policy also connect ({@code fetch}) to these origins,
         * e.g. an identity provider's token endpoint; each an http(s) origin without path.
         */
        public Builder pageConnectSources(String... origins) {
            for (String origin : origins) {
                java.net.URI uri;
                try {
                    uri = new java.net.URI(Objects.requireNonNull(origin, "origin"));
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalArgumentException("not an origin: " + origin, e);
                }
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getRawAuthority() == null
                        || !HOST.matcher(uri.getRawAuthority()).matches() || (uri.getRawPath() != null && !uri.getRawPath().isEmpty())
                        || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                    throw new IllegalArgumentException("not an http(s) origin like https://id.example: " + origin);
                }
                connectSources.append(' ').append(origin.toLowerCase(Locale.ROOT));
            }
            return this;
        }

        public SecurityHeaders build() {
            return new SecurityHeaders(true, behindTls, referrerPolicy, pagePolicy, wholeApp, connectSources.toString());
        }

        private static String requireHeaderValue(String value, String name) {
            Objects.requireNonNull(value, name);
            if (value.isBlank() || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw new IllegalArgumentException(name + " must be a non-blank header value without control characters");
            }
            return value.strip();
        }
    }
}
