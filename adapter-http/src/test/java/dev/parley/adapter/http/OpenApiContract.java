package dev.parley.adapter.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.oas.OpenApi31;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates real responses against the OpenAPI document served at {@code /openapi.json}, with the
 * networknt JSON Schema validator in its OpenAPI 3.1 dialect: the body against the schema the
 * document gives for the operation, status and media type, and the presence of every response
 * header it documents. Remembers which operations were seen answering with success.
 */
final class OpenApiContract {
    private static final String DOCUMENT = "dev/parley/adapter/http/openapi.json";
    private static final JsonNode doc = load();
    private static final JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            builder -> builder.metaSchema(OpenApi31.getInstance()).defaultMetaSchemaIri(OpenApi31.getInstance().getIri()));
    private static final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();
    private final Set<String> succeeded = ConcurrentHashMap.newKeySet();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    private static JsonNode load() {
        try (InputStream in = OpenApiContract.class.getClassLoader().getResourceAsStream(DOCUMENT)) {
            return TestServer.JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode document() {
        return doc;
    }

    /** Every operation of the document as {@code METHOD /path}. */
    Set<String> operations() {
        Set<String> ops = new TreeSet<>();
        Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields();
        while (paths.hasNext()) {
            Map.Entry<String, JsonNode> path = paths.next();
            path.getValue().fieldNames().forEachRemaining(method -> {
                if (!method.equals("parameters")) {
                    ops.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
                }
            });
        }
        return ops;
    }

    Set<String> succeeded() {
        return Set.copyOf(succeeded);
    }

    Set<String> seen() {
        return Set.copyOf(seen);
    }

    /** Asserts that {@code response} of {@code method path} (a path template of the document) is what the document says. */
    void check(String method, String path, TestServer.Response response) {
        String pointer = responsePointer(method, path, response.status());
        JsonNode documented = resolve(pointer);
        documented.path("headers").fieldNames().forEachRemaining(header ->
                assertThat(response.header(header)).as("header %s of %s %s -> %d", header, method, path, response.status()).isNotNull());
        JsonNode content = documented.get("content");
        if (content == null) {
            assertThat(response.body()).as("body of %s %s -> %d", method, path, response.status()).isEmpty();
        } else {
            String mediaType = response.contentType() == null ? "" : response.contentType().split(";")[0].trim();
            assertThat(content.has(mediaType)).as("%s %s -> %d documents %s", method, path, response.status(), mediaType).isTrue();
            if (mediaType.equals("text/event-stream")) {
                for (String frame : response.body().split("\n\n")) {
                    for (String line : frame.split("\n")) {
                        if (line.startsWith("data: ")) {
                            checkEvent(TestServer.parse(line.substring(6)));
                        }
                    }
                }
            } else if (mediaType.equals("application/json") || mediaType.equals("application/problem+json")) {
                validate(pointer + "/content/" + escape(mediaType) + "/schema", response.json(), method + " " + path);
            }
        }
        record(method, path, response.status());
    }

    /** Asserts that an SSE frame's data is a documented run event. */
    void checkEvent(JsonNode data) {
        validate("#/components/schemas/RunEvent", data, "event " + data);
    }

    /** Asserts that a WebSocket frame from the server is documented. */
    void checkServerFrame(JsonNode frame) {
        validate("#/components/schemas/WsServerFrame", frame, "frame " + frame);
    }

    /** Asserts that a WebSocket frame a client sends is documented (to keep examples honest). */
    void checkClientFrame(JsonNode frame) {
        validate("#/components/schemas/WsClientFrame", frame, "client frame " + frame);
    }

    /** Records a status seen for an operation whose response has no body to check (a WebSocket upgrade). */
    void record(String method, String path, int status) {
        String op = method.toUpperCase(Locale.ROOT) + " " + path;
        seen.add(op + " " + status);
        if (status < 300 || status == 101) {
            succeeded.add(op);
        }
    }

    private void validate(String pointer, JsonNode value, String what) {
        JsonSchema schema = schemas.computeIfAbsent(pointer, p -> factory.getSchema(SchemaLocation.of("classpath:" + DOCUMENT + p)));
        Set<ValidationMessage> errors = schema.validate(value);
        assertThat(errors).as("%s against %s: %s", what, pointer, value).isEmpty();
    }

    private String responsePointer(String method, String path, int status) {
        String op = "#/paths/" + escape(path) + "/" + method.toLowerCase(Locale.ROOT);
        assertThat(resolveOrNull(op)).as("operation %s %s is documented", method, path).isNotNull();
        String pointer = op + "/responses/" + status;
        JsonNode node = resolveOrNull(pointer);
        assertThat(node).as("status %d of %s %s is documented", status, method, path).isNotNull();
        return node.has("$ref") ? node.get("$ref").asText() : pointer;
    }


    private JsonNode resolve(String pointer) {
        JsonNode node = resolveOrNull(pointer);
        assertThat(node).as(pointer).isNotNull();
        return node;
    }

    private JsonNode resolveOrNull(String pointer) {
        JsonNode node = doc.at(pointer.substring(1));
        return node.isMissingNode() ? null : node;
    }

    static String escape(String segment) {
        return segment.replace("~", "~0").replace("/", "~1");
    }
}
