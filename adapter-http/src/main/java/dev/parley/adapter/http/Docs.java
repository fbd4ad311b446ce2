package dev.parley.adapter.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;

/**
 * {@code GET /openapi.json} (the maintained document in this module's resources) and {@code GET /docs}
 * (Swagger UI from its webjar, every file served from here; no inline script, so that the page works
 * under {@link SecurityHeaders#DOCS_POLICY}).
 */
final class Docs {
    static final String OPENAPI_RESOURCE = "/dev/parley/adapter/http/openapi.json";
    /** The page's own script, beside the webjar's files. */
    static final String INIT_SCRIPT = "parley-docs.js";
    private static final String INIT_RESOURCE = "/dev/parley/adapter/http/docs.js";
    private static final Map<String, String> ASSETS = Map.of(
            INIT_SCRIPT, "text/javascript; charset=utf-8",
            "swagger-ui.css", "text/css; charset=utf-8",
            "swagger-ui-bundle.js", "text/javascript; charset=utf-8",
            "swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8",
            "favicon-32x32.png", "image/png",
            "favicon-16x16.png", "image/png");
    private static final String PAGE = """
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Parley API</title>
              <link rel="stylesheet" href="/docs/swagger-ui.css">
              <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
            </head>
            <body>
              <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
              <script src="/docs/swagger-ui-bundle.js"></script>
              <script src="/docs/parley-docs.js"></script>
            </body>
            </html>
            """;

    private final byte[] openApi;
    private final String webjarBase;

    Docs() {
        this.openApi = read(OPENAPI_RESOURCE);
        this.webjarBase = "/META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion() + "/";
    }

    void openApi(Api.Call call) {
        call.ctx().status(200);
        call.ctx().contentType("application/json");
        call.ctx().result(openApi);
    }

    void page(Api.Call call) {
        call.ctx().status(200);
        call.ctx().contentType("text/html; charset=utf-8");
        call.ctx().result(PAGE);
    }

    void asset(Api.Call call) {
        String name = call.ctx().pathParam("asset");
        String type = ASSETS.get(name);
        InputStream in = type == null ? null
                : Docs.class.getResourceAsStream(name.equals(INIT_SCRIPT) ? INIT_RESOURCE : webjarBase + name);
        if (in == null) {
            throw new ApiProblem(404, "not_found", "No such route");
        }
        call.ctx().status(200);
        call.ctx().contentType(type);
        call.ctx().header("Cache-Control", "public, max-age=86400");
        call.ctx().result(in);
    }

    private static byte[] read(String resource) {
        try (InputStream in = Docs.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String swaggerUiVersion() {
        try (InputStream in = Docs.class.getResourceAsStream("/META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
