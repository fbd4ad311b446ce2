package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Reading OpenAI request bodies strictly (every member known, every type checked) and writing JSON answers. */
final class Http {
    private static final int MAX_METADATA_ENTRIES = 16;
    private static final int MAX_METADATA_KEY = 64;
    private static final int MAX_METADATA_VALUE = 512;

    private Http() {}

    static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status);
        ctx.contentType("application/json");
        Wire.respond(ctx, body);
    }

    /** {@code text} as it may be shown in a message: at most 64 characters of letters, digits and a few marks. */
    static String shown(String text) {
        if (text == null) {
            return "";
        }
        String cut = text.length() > 64 ? text.substring(0, 64) : text;
        return cut.replaceAll("[^A-Za-z0-9_.:/ -]", "?");
    }

    /** 400 naming the first member of {@code body} that is not in {@code known}. */
    static void requireKnown(JsonNode body, Set<String> known) {
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) {
                throw OpenAiError.unsupported(shown(name), "Parley does not offer it on this route");
            }
        }
    }

    static String string(JsonNode body, String name, boolean required) {
        JsonNode node = body.get(name);
        if (node == null || node.isNull()) {
            if (required) {
                throw OpenAiError.invalid(name, "Missing required parameter: '" + name + "'.");
            }
            return null;
        }
        if (!node.isTextual() || node.asText().isEmpty()) {
            throw OpenAiError.invalid(name, "Invalid type for '" + name + "': expected a non-empty string.");
        }
        return node.asText();
    }

    static boolean bool(JsonNode body, String name, boolean otherwise) {
        JsonNode node = body.get(name);
        if (node == null || node.isNull()) {
            return otherwise;
        }
        if (!node.isBoolean()) {
            throw OpenAiError.invalid(name, "Invalid type for '" + name + "': expected a boolean.");
        }
        return node.asBoolean();
    }

    /** OpenAI's metadata: at most 16 string pairs, keys up to 64 and values up to 512 characters. */
    static Map<String, String> metadata(JsonNode body, String name) {
        JsonNode node = body.get(name);
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject() || node.size() > MAX_METADATA_ENTRIES) {
            throw OpenAiError.invalid(name, "Invalid '" + name + "': expected an object of at most 16 string values.");
        }
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual() || e.getKey().length() > MAX_METADATA_KEY || e.getValue().asText().length() > MAX_METADATA_VALUE) {
                throw OpenAiError.invalid(name, "Invalid '" + name + "': keys up to 64 and string values up to 512 characters.");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /**
     * The request's {@code metadata} with the client's end-user id ({@code user}, as chat UIs send it)
     * kept under {@code user}: it is recorded on the run's user message, never acted on.
     */
    static Map<String, String> metadataWithUser(JsonNode body) {
        Map<String, String> metadata = metadata(body, "metadata");
        String user = string(body, "user", false);
        if (user != null) {
            if (user.length() > MAX_METADATA_VALUE || metadata.size() == MAX_METADATA_ENTRIES) {
                throw OpenAiError.invalid("user", "Invalid 'user': at most 512 characters, with at most 15 metadata entries.");
            }
            metadata.put("user", user);
        }
        return metadata;
    }

    /** The query parameter {@code limit}: 1 to 100, {@code otherwise} when absent. */
    static int limit(Context ctx, int otherwise) {
        String raw = ctx.queryParam("limit");
        if (raw == null) {
            return otherwise;
        }
        if (!raw.matches("[0-9]{1,3}") || Integer.parseInt(raw) < 1 || Integer.parseInt(raw) > 100) {
            throw OpenAiError.invalid("limit", "Invalid 'limit': expected an integer from 1 to 100.");
        }
        return Integer.parseInt(raw);
    }

    /** The query parameter {@code order}: true for {@code asc}, {@code otherwise} when absent. */
    static boolean ascending(Context ctx, boolean otherwise) {
        String raw = ctx.queryParam("order");
        if (raw == null) {
            return otherwise;
        }
        return switch (raw) {
            case "asc" -> true;
            case "desc" -> false;
            default -> throw OpenAiError.invalid("order", "Invalid 'order': expected 'asc' or 'desc'.");
        };
    }

    static void refuseInclude(Context ctx) {
        if (ctx.queryParam("include") != null) {
            throw OpenAiError.unsupported("include", "Parley has no extra output data to include");
        }
    }
}
