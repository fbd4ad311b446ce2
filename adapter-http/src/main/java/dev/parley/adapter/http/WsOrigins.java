package dev.parley.adapter.http;

import io.javalin.http.Context;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/** Who may open the WebSocket: the browser origins allowed (the configured ones and the server's own host). */
final class WsOrigins {
    private final Set<String> allowed;

    WsOrigins(Set<String> allowed) {
        this.allowed = allowed;
    }

    /** Refuses the upgrade (403 problem) when the browser's Origin is not allowed. */
    void beforeUpgrade(Context ctx) throws IOException {
        String origin = ctx.header("Origin");
        if (originAllowed(origin, ctx.header("Host"))) {
            return;
        }
        ApiProblem problem = new ApiProblem(403, "origin_not_allowed", "This origin may not open the WebSocket");
        ctx.skipRemainingHandlers();
        var res = ctx.res();
        res.setStatus(403);
        res.setContentType("application/problem+json");
        res.setHeader(Api.REQUEST_ID_HEADER, Api.requestId(ctx.header(Api.REQUEST_ID_HEADER)));
        res.getOutputStream().write(Json.write(problem.body()).getBytes(StandardCharsets.UTF_8));
        res.getOutputStream().flush();
    }

    boolean originAllowed(String origin, String host) {
        if (origin == null) {
            return true; // not a browser: browsers always send Origin on WebSocket upgrades
        }
        if (allowed.contains("*") || allowed.contains(origin)) {
            return true;
        }
        try {
            URI uri = URI.create(origin);
            if (uri.getHost() == null || host == null) {
                return false;
            }
            String originHost = uri.getPort() == -1 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
            String defaultPort = "https".equalsIgnoreCase(uri.getScheme()) ? ":443" : ":80";
            String requestHost = host.toLowerCase(Locale.ROOT);
            String candidate = originHost.toLowerCase(Locale.ROOT);
            return requestHost.equals(candidate) || requestHost.equals(candidate + defaultPort)
                    || (requestHost + defaultPort).equals(candidate);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
