package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.FieldError;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An RFC 9457 problem ready to send: status, stable code, a detail safe to show, field errors
 * for validation failures, extra members (such as {@code run_id}) and extra response headers.
 */
final class ApiProblem extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final String code;
    final transient List<FieldError> errors;
    final transient Map<String, Object> extras = new LinkedHashMap<>();
    final transient Map<String, String> headers = new LinkedHashMap<>();

    ApiProblem(int status, String code, String detail) {
        this(status, code, detail, List.of());
    }

    ApiProblem(int status, String code, String detail, List<FieldError> errors) {
        super(detail, null, false, false);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
    }

    ApiProblem with(String member, Object value) {
        extras.put(member, value);
        return this;
    }

    ApiProblem header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    static ApiProblem validation(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? errors.get(0).field() + ": " + errors.get(0).message()
                : "The request has " + errors.size() + " invalid fields";
        return new ApiProblem(422, "validation_failed", detail, errors);
    }

    static ApiProblem field(String field, String message) {
        return validation(List.of(new FieldError(field, message)));
    }

    static ApiProblem parameter(String name, String message) {
        return new ApiProblem(400, "invalid_parameter", name + ": " + message, List.of(new FieldError(name, message)));
    }

    static ApiProblem notFound(String code, String detail) {
        return new ApiProblem(404, code, detail);
    }

    /** The problem document. */
    ObjectNode body() {
        ObjectNode o = Json.object();
        o.put("type", "urn:parley:problem:" + code);
        o.put("title", title(status));
        o.put("status", status);
        o.put("detail", getMessage());
        o.put("code", code);
        if (!errors.isEmpty()) {
            ArrayNode list = o.putArray("errors");
            for (FieldError e : errors) {
                list.addObject().put("field", e.field()).put("message", e.message());
            }
        }
        extras.forEach((k, v) -> o.set(k, Json.MAPPER.valueToTree(v)));
        return o;
    }

    static String title(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 426 -> "Upgrade Required";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Error";
        };
    }
}
