package dev.parley.adapter.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's own error responses (requests it refuses before any route sees them: a NUL or bad UTF-8
 * in the path, oversized headers, a malformed request line) as problem+json with a stable code,
 * instead of Jetty's HTML page. Jetty's message and cause are never shown.
 */
final class ProblemErrorHandler extends ErrorHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ProblemErrorHandler.class);

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        String requestId = Api.requestId(request.getHeaders().get(Api.REQUEST_ID_HEADER));
        ApiProblem problem = code == 500 ? Errors.internal(requestId) : problem(code);
        LOG.debug("Jetty refused a request with {} (request {}): {}", code, requestId, message);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
        response.getHeaders().put(Api.REQUEST_ID_HEADER, requestId);
        securityHeaders(response.getHeaders());
        response.write(true, ByteBuffer.wrap(Json.write(problem.body()).getBytes(StandardCharsets.UTF_8)), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(new HttpField(HttpHeader.CONTENT_TYPE, "application/problem+json"));
        securityHeaders(fields);
        return ByteBuffer.wrap(Json.write(problem(status).body()).getBytes(StandardCharsets.UTF_8));
    }

    /** The headers every API answer carries (see {@link SecurityHeaders}), where not set already. */
    private static void securityHeaders(HttpFields.Mutable fields) {
        putIfAbsent(fields, "X-Content-Type-Options", "nosniff");
        putIfAbsent(fields, "X-Frame-Options", "DENY");
        putIfAbsent(fields, "Referrer-Policy", SecurityHeaders.DEFAULT_REFERRER_POLICY);
        putIfAbsent(fields, "Content-Security-Policy", SecurityHeaders.API_POLICY);
    }

    private static void putIfAbsent(HttpFields.Mutable fields, String name, String value) {
        if (!fields.contains(name)) {
            fields.put(name, value);
        }
    }

    /** The problem for a status Jetty chose; the detail is generic on purpose. */
    static ApiProblem problem(int status) {
        return switch (status) {
            case 400 -> new ApiProblem(400, "bad_request", "The request is malformed");
            case 404 -> new ApiProblem(404, "not_found", "No such route");
            case 405 -> new ApiProblem(405, "method_not_allowed", "The method is not allowed here");
            case 408 -> new ApiProblem(408, "request_timeout", "The request took too long to arrive");
            case 413 -> new ApiProblem(413, "payload_too_large", "The request is too large");
            case 414 -> new ApiProblem(414, "uri_too_long", "The request URI is too long");
            case 415 -> new ApiProblem(415, "unsupported_media_type", "The request body must be application/json (UTF-8)");
            case 426 -> new ApiProblem(426, "upgrade_required", "This protocol is not served here; use HTTP/1.1");
            case 431 -> new ApiProblem(431, "headers_too_large", "The request headers are too large");
            case 503 -> new ApiProblem(503, "unavailable", "The service is temporarily unavailable; retry later");
            case 505 -> new ApiProblem(505, "http_version_not_supported", "This HTTP version is not supported; use HTTP/1.1");
            default -> status >= 500
                    ? new ApiProblem(status, "internal_error", "Unexpected error")
                    : new ApiProblem(status, "bad_request", "The request cannot be served");
        };
    }
}
