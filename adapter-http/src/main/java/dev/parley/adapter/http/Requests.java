package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.WireEnum;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Reads request bodies (already parsed JSON) into typed values. Unknown members are ignored; a
 * member of the wrong type, an unknown enum value, an empty or too long message, U+0000 or an
 * unpaired surrogate in any string is a field error; all field errors of a body are reported
 * together as one 422 {@code validation_failed}.
 */
final class Requests {
    private final List<FieldError> errors = new ArrayList<>();
    private final JsonNode body;

    private Requests(JsonNode body) {
        this.body = body;
    }

    /** What {@code POST /threads} asks for. */
    record CreateThread(String agentId, String title, Map<String, String> metadata, Integer agentVersion) {}

    /** What {@code PATCH /threads/{id}} asks for; absent members are null. */
    record UpdateThread(String title, Map<String, String> metadata) {}

    /** What a chat request (HTTP or WebSocket) asks for; absent members are null. */
    record Chat(List<ContentPart> content, Boolean stream, BusyPolicy ifBusy, DisconnectPolicy onDisconnect,
                Map<String, String> metadata, String threadId, String agentId, Map<String, String> variables,
                ModelSettings modelSettings) {}

    /** What an approval decision (HTTP or WebSocket) asks for; both members are required. */
    record Approval(String toolCallId, ApprovalDecision decision, String reason) {}

    static Approval approval(JsonNode body) {
        Requests r = new Requests(body);
        String toolCallId = r.string("tool_call_id");
        ApprovalDecision decision = r.enumValue("decision", ApprovalDecision.class);
        String reason = r.string("reason");
        if (toolCallId == null && !r.hasError("tool_call_id")) {
            r.error("tool_call_id", "is required");
        }
        if (decision == null && !r.hasError("decision")) {
            r.error("decision", "is required (approve or deny)");
        }
        r.done();
        return new Approval(toolCallId, decision, reason);
    }

    private boolean hasError(String field) {
        return errors.stream().anyMatch(e -> e.field().equals(field));
    }

    static CreateThread createThread(JsonNode body) {
        Requests r = new Requests(body);
        CreateThread result = new CreateThread(r.string("agent_id"), r.string("title"), r.metadata("metadata"),
                r.positiveInt("agent_version"));
        r.done();
        return result;
    }

    static UpdateThread updateThread(JsonNode body) {
        Requests r = new Requests(body);
        UpdateThread result = new UpdateThread(r.string("title"), r.metadata("metadata"));
        r.done();
        return result;
    }

    /** A chat body; {@code withTarget} also reads {@code thread_id} and {@code agent_id} (the thread-less routes). */
    static Chat chat(JsonNode body, boolean withTarget, int maxMessageChars) {
        Requests r = new Requests(body);
        List<ContentPart> content = r.message("message", maxMessageChars);
        Boolean stream = r.bool("stream");
        BusyPolicy ifBusy = r.enumValue("if_busy", BusyPolicy.class);
        DisconnectPolicy onDisconnect = r.enumValue("on_disconnect", DisconnectPolicy.class);
        Map<String, String> metadata = r.metadata("metadata");
        String threadId = withTarget ? r.string("thread_id") : null;
        String agentId = withTarget ? r.string("agent_id") : null;
        Map<String, String> variables = r.metadata("variables");
        ModelSettings settings = modelSettings(body, r.errors);
        r.done();
        return new Chat(content, stream, ifBusy, onDisconnect, metadata, threadId, agentId, variables, settings);
    }

    /** A regenerate body: the chat options without a message (an absent body is all defaults). */
    static Chat regenerate(JsonNode body) {
        Requests r = new Requests(body);
        Boolean stream = r.bool("stream");
        BusyPolicy ifBusy = r.enumValue("if_busy", BusyPolicy.class);
        DisconnectPolicy onDisconnect = r.enumValue("on_disconnect", DisconnectPolicy.class);
        Map<String, String> variables = r.metadata("variables");
        ModelSettings settings = modelSettings(body, r.errors);
        r.done();
        return new Chat(List.of(), stream, ifBusy, onDisconnect, null, null, null, variables, settings);
    }

    /**
     * {@code model_settings} of {@code body}: {@code temperature} (0-2), {@code max_output_tokens} (1-1,000,000),
     * {@code reasoning_effort} (low, medium, high), each optional; null when absent. A member of the wrong type
     * joins {@code errors}; a value out of range is {@code validation_failed} at once (as {@link ModelSettings} says).
     */
    static ModelSettings modelSettings(JsonNode body, List<FieldError> errors) {
        JsonNode node = body == null ? null : body.get("model_settings");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            errors.add(new FieldError("model_settings", "must be an object"));
            return null;
        }
        int before = errors.size();
        Double temperature = null;
        JsonNode t = node.get("temperature");
        if (t != null && !t.isNull()) {
            if (t.isNumber()) {
                temperature = t.doubleValue();
            } else {
                errors.add(new FieldError("model_settings.temperature", "must be a number"));
            }
        }
        Integer maxTokens = null;
        JsonNode m = node.get("max_output_tokens");
        if (m != null && !m.isNull()) {
            if (m.isIntegralNumber() && m.canConvertToInt()) {
                maxTokens = m.intValue();
            } else {
                errors.add(new FieldError("model_settings.max_output_tokens", "must be an integer from 1 to 1000000"));
            }
        }
        ReasoningEffort effort = null;
        JsonNode e = node.get("reasoning_effort");
        if (e != null && !e.isNull()) {
            effort = (e.isTextual() ? WireEnum.fromWire(ReasoningEffort.class, e.textValue()) : Optional.<ReasoningEffort>empty())
                    .orElse(null);
            if (effort == null) {
                errors.add(new FieldError("model_settings.reasoning_effort", "must be one of: "
                        + Arrays.stream(ReasoningEffort.values()).map(WireEnum::wireName).collect(Collectors.joining(", "))));
            }
        }
        return errors.size() > before ? null : new ModelSettings(temperature, maxTokens, effort);
    }

    /** A message PATCH body: {@code metadata}, required. */
    static Map<String, String> messagePatch(JsonNode body) {
        Requests r = new Requests(body);
        Map<String, String> metadata = r.metadata("metadata");
        if (metadata == null && !r.errors.stream().anyMatch(e -> e.field().equals("metadata"))) {
            r.error("metadata", "is required");
        }
        r.done();
        return metadata;
    }

    /** Throws the collected field errors, if any. */
    private void done() {
        if (!errors.isEmpty()) {
            throw ApiProblem.validation(errors);
        }
    }

    private void error(String field, String message) {
        errors.add(new FieldError(field, message));
    }

    private JsonNode member(String name) {
        JsonNode node = body.get(name);
        return node == null || node.isNull() ? null : node;
    }

    String string(String name) {
        JsonNode node = member(name);
        if (node == null) {
            return null;
        }
        if (!node.isTextual()) {
            error(name, "must be a string");
            return null;
        }
        return checkedText(name, node.textValue());
    }

    private Integer positiveInt(String name) {
        JsonNode node = member(name);
        if (node == null) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 1) {
            error(name, "must be a whole number from 1");
            return null;
        }
        return node.intValue();
    }

    private Boolean bool(String name) {
        JsonNode node = member(name);
        if (node == null) {
            return null;
        }
        if (!node.isBoolean()) {
            error(name, "must be true or false");
            return null;
        }
        return node.booleanValue();
    }

    private <E extends Enum<E> & WireEnum> E enumValue(String name, Class<E> type) {
        JsonNode node = member(name);
        if (node == null) {
            return null;
        }
        String allowed = Arrays.stream(type.getEnumConstants()).map(WireEnum::wireName).collect(Collectors.joining(", "));
        if (!node.isTextual()) {
            error(name, "must be one of: " + allowed);
            return null;
        }
        Optional<E> value = WireEnum.fromWire(type, node.textValue());
        if (value.isEmpty()) {
            error(name, "must be one of: " + allowed);
            return null;
        }
        return value.get();
    }

    private Map<String, String> metadata(String name) {
        JsonNode node = member(name);
        if (node == null) {
            return null;
        }
        if (!node.isObject()) {
            error(name, "must be an object of string values");
            return null;
        }
        Map<String, String> result = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = checkedText(name, field.getKey());
            String path = name + "." + field.getKey();
            if (!field.getValue().isTextual()) {
                error(path, "must be a string");
                continue;
            }
            String value = checkedText(path, field.getValue().textValue());
            if (key != null && value != null) {
                result.put(key, value);
            }
        }
        return result;
    }

    /** {@code "text"} or a non-empty list of {@code {"type":"text","text"}} / {@code {"type":"image_url","url"}} parts. */
    private List<ContentPart> message(String name, int maxChars) {
        JsonNode node = member(name);
        if (node == null) {
            error(name, "is required");
            return null;
        }
        List<ContentPart> parts = new ArrayList<>();
        if (node.isTextual()) {
            String text = checkedText(name, node.textValue());
            if (text != null) {
                parts.add(ContentPart.text(text));
            }
        } else if (node.isArray()) {
            if (node.isEmpty()) {
                error(name, "must not be empty");
                return null;
            }
            for (int i = 0; i < node.size(); i++) {
                ContentPart part = part(name + "[" + i + "]", node.get(i));
                if (part != null) {
                    parts.add(part);
                }
            }
        } else {
            error(name, "must be a string or a list of content parts");
            return null;
        }
        long codePoints = 0;
        boolean hasText = false;
        for (ContentPart part : parts) {
            if (part instanceof ContentPart.Text t) {
                codePoints += t.text().codePointCount(0, t.text().length());
                hasText |= !t.text().isBlank();
            } else {
                hasText = true;
            }
        }
        if (!parts.isEmpty() && !hasText) {
            error(name, "must not be empty");
        }
        if (codePoints > maxChars) {
            error(name, "must be at most " + maxChars + " characters");
        }
        return parts;
    }

    private ContentPart part(String path, JsonNode node) {
        if (!node.isObject()) {
            error(path, "must be a content part object");
            return null;
        }
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            error(path + ".type", "must be one of: text, image_url");
            return null;
        }
        switch (type.textValue()) {
            case "text" -> {
                JsonNode text = node.get("text");
                if (text == null || !text.isTextual()) {
                    error(path + ".text", "must be a string");
                    return null;
                }
                String value = checkedText(path + ".text", text.textValue());
                return value == null ? null : ContentPart.text(value);
            }
            case "image_url" -> {
                JsonNode url = node.get("url");
                if (url == null || !url.isTextual() || url.textValue().isBlank()) {
                    error(path + ".url", "must be a non-empty string");
                    return null;
                }
                String value = checkedText(path + ".url", url.textValue());
                return value == null ? null : ContentPart.imageUrl(value);
            }
            default -> {
                error(path + ".type", "must be one of: text, image_url");
                return null;
            }
        }
    }

    /** {@code text}, or null after recording an error when it holds U+0000 or an unpaired surrogate. */
    private String checkedText(String field, String text) {
        String problem = textProblem(text);
        if (problem != null) {
            error(field, problem);
            return null;
        }
        return text;
    }

    /** Why {@code text} cannot be stored, or null when it can. */
    static String textProblem(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\u0000') {
                return "must not contain U+0000";
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return "must not contain an unpaired surrogate";
            }
            if (Character.isLowSurrogate(c)) {
                return "must not contain an unpaired surrogate";
            }
        }
        return null;
    }
}
