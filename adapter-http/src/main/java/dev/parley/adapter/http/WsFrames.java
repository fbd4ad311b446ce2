package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.FieldError;

/** The WebSocket protocol's small pieces: reading an optional text member of a frame, writing an {@code error} frame. */
final class WsFrames {
    private WsFrames() {
    }

    /** The frame's member {@code name} as text, or null when absent or null; any other type is a field error. */
    static String optionalText(JsonNode frame, String name) {
        JsonNode node = frame.get(name);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw ApiProblem.field(name, "must be a string");
        }
        return node.textValue();
    }

    static ObjectNode error(String code, String message, String requestId) {
        ObjectNode frame = Json.object().put("type", "error").put("code", code).put("message", message);
        if (requestId != null) {
            frame.put("request_id", requestId);
        }
        return frame;
    }

    /** The {@code error} frame of {@code problem}: its code, message, field errors and {@code retry_after}. */
    static ObjectNode problem(ApiProblem problem, String requestId, ParleyMetrics metrics) {
        if (problem.status == 503 && metrics != null) {
            metrics.storeError("websocket");
        }
        ObjectNode frame = error(problem.code, problem.getMessage(), requestId);
        if (!problem.errors.isEmpty()) {
            ArrayNode errors = frame.putArray("errors");
            for (FieldError e : problem.errors) {
                errors.addObject().put("field", e.field()).put("message", e.message());
            }
        }
        String retryAfter = problem.headers.get("Retry-After");
        if (retryAfter != null) {
            frame.put("retry_after", Long.parseLong(retryAfter));
        }
        return frame;
    }
}
