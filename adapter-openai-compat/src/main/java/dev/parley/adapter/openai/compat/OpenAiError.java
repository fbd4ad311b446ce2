package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.HttpGateway;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, with the
 * status the official SDKs turn into their typed exceptions (400 bad request, 401, 404, 409, 429
 * with {@code Retry-After}, ...).
 */
final class OpenAiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String type;
    final String param;
    final String code;
    final transient Map<String, String> headers = new LinkedHashMap<>();

    OpenAiError(int status, String type, String param, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400 naming the request parameter {@code param}. */
    static OpenAiError invalid(String param, String message) {
        return new OpenAiError(400, "invalid_request_error", param, "invalid_parameter", message);
    }

    /** 400 for a parameter Parley does not offer, naming it and saying why. */
    static OpenAiError unsupported(String param, String why) {
        return new OpenAiError(400, "invalid_request_error", param, "unsupported_parameter",
                "Unsupported parameter: '" + param + "'" + (why == null ? "" : ": " + why));
    }

    static OpenAiError notFound(String code, String message) {
        return new OpenAiError(404, "invalid_request_error", null, code, message);
    }

    /** A failure of the shared HTTP machinery (auth, rate limit, body, the inbound port) in this shape. */
    static OpenAiError of(HttpGateway.Failure failure) {
        int status = failure.status() == 422 ? 400 : failure.status();
        String param = failure.errors().isEmpty() ? null : failure.errors().get(0).field();
        OpenAiError error = new OpenAiError(status, type(failure.status()), param, failure.code(), failure.message());
        error.headers.putAll(failure.headers());
        return error;
    }

    private static String type(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404, 400, 409, 413, 415, 422 -> "invalid_request_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    /** The error member of an error body (also the {@code error} of a failed response). */
    ObjectNode body() {
        ObjectNode error = Wire.object();
        error.put("message", getMessage());
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return error;
    }

    void write(Context ctx) {
        ctx.status(status);
        headers.forEach(ctx::header);
        ctx.contentType("application/json");
        ObjectNode root = Wire.object();
        root.set("error", body());
        if (!ctx.res().isCommitted()) {
            ctx.res().resetBuffer(); // a body written before the failure is replaced, as a result would be
        }
        Wire.respond(ctx, root);
    }

    static void write(Context ctx, HttpGateway.Failure failure) {
        of(failure).write(ctx);
    }
}
