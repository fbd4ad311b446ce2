package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.ContentPart;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code input} of a response: a string, or input items. The user messages among them become the
 * run's one user message (their parts in order); {@code mcp_approval_response} items answer approval
 * requests and come without messages. Anything else is refused naming the item.
 *
 * @param content      the user message's parts (empty for an approval answer)
 * @param instructions the text of the system and developer messages among the items, for this run's
 *                     instructions (after the agent's own), or null
 * @param approvals    the approval answers (empty for a message)
 */
record Input(List<ContentPart> content, String instructions, List<ApprovalAnswer> approvals) {

    /** An {@code mcp_approval_response} item. */
    record ApprovalAnswer(String requestId, boolean approve, String reason) {}

    static Input parse(JsonNode input) {
        if (input == null || input.isNull()) {
            throw OpenAiError.invalid("input", "Missing required parameter: 'input'.");
        }
        if (input.isTextual()) {
            if (input.asText().isEmpty()) {
                throw OpenAiError.invalid("input", "Invalid 'input': empty string.");
            }
            return new Input(List.of(ContentPart.text(input.asText())), null, List.of());
        }
        if (!input.isArray() || input.isEmpty()) {
            throw OpenAiError.invalid("input", "Invalid 'input': expected a string or a non-empty array of input items.");
        }
        List<ContentPart> parts = new ArrayList<>();
        StringBuilder instructions = new StringBuilder();
        List<ApprovalAnswer> approvals = new ArrayList<>();
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String at = "input[" + i + "]";
            if (!item.isObject()) {
                throw OpenAiError.invalid(at, "Invalid '" + at + "': expected an object.");
            }
            String type = item.path("type").asText("message");
            if (type.equals("mcp_approval_response")) {
                approvals.add(approval(item, at));
            } else if (type.equals("message")) {
                String role = item.path("role").asText("");
                if (role.equals("system") || role.equals("developer")) {
                    instructions.append(instructions.isEmpty() ? "" : "\n\n").append(text(content(item.get("content"), at + ".content")));
                } else if (role.equals("user")) {
                    parts.addAll(content(item.get("content"), at + ".content"));
                } else {
                    throw OpenAiError.unsupported(at + ".role", "earlier answers are not taken as input: they are in the conversation"
                            + " (give conversation or previous_response_id)");
                }
            } else {
                throw OpenAiError.unsupported(at + ".type", "input items of type '" + Http.shown(type) + "' are not offered");
            }
        }
        if (!approvals.isEmpty() && (!parts.isEmpty() || !instructions.isEmpty())) {
            throw OpenAiError.invalid("input", "mcp_approval_response items answer the response that asked; they come without messages.");
        }
        if (approvals.isEmpty() && parts.isEmpty()) {
            throw OpenAiError.invalid("input", "Invalid 'input': no user message to answer.");
        }
        return new Input(List.copyOf(parts), instructions.isEmpty() ? null : instructions.toString(), List.copyOf(approvals));
    }

    /** The text of content parts; an image in instructions is refused. */
    static String text(List<ContentPart> parts) {
        StringBuilder text = new StringBuilder();
        for (ContentPart part : parts) {
            if (!(part instanceof ContentPart.Text t)) {
                throw OpenAiError.unsupported("input", "instructions are text only");
            }
            text.append(t.text());
        }
        return text.toString();
    }

    private static ApprovalAnswer approval(JsonNode item, String at) {
        JsonNode id = item.get("approval_request_id");
        JsonNode approve = item.get("approve");
        JsonNode reason = item.get("reason");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            throw OpenAiError.invalid(at + ".approval_request_id", "Missing required parameter: '" + at + ".approval_request_id'.");
        }
        if (approve == null || !approve.isBoolean()) {
            throw OpenAiError.invalid(at + ".approve", "Missing required parameter: '" + at + ".approve' (a boolean).");
        }
        if (reason != null && !reason.isNull() && !reason.isTextual()) {
            throw OpenAiError.invalid(at + ".reason", "Invalid '" + at + ".reason': expected a string.");
        }
        return new ApprovalAnswer(id.asText(), approve.asBoolean(), reason == null || reason.isNull() ? null : reason.asText());
    }

    /** A message's content: a string, or text and image parts. */
    static List<ContentPart> content(JsonNode content, String at) {
        if (content != null && content.isTextual()) {
            if (content.asText().isEmpty()) {
                throw OpenAiError.invalid(at, "Invalid '" + at + "': empty string.");
            }
            return List.of(ContentPart.text(content.asText()));
        }
        if (content == null || !content.isArray() || content.isEmpty()) {
            throw OpenAiError.invalid(at, "Invalid '" + at + "': expected a string or an array of content parts.");
        }
        List<ContentPart> parts = new ArrayList<>();
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            String partAt = at + "[" + j + "]";
            String type = part.path("type").asText("");
            switch (type) {
                case "input_text", "output_text", "text" -> {
                    if (!part.path("text").isTextual()) {
                        throw OpenAiError.invalid(partAt + ".text", "Missing required parameter: '" + partAt + ".text'.");
                    }
                    parts.add(ContentPart.text(part.get("text").asText()));
                }
                case "input_image", "image_url" -> {
                    JsonNode url = part.get("image_url");
                    if (url != null && url.isObject()) {
                        url = url.get("url");
                    }
                    if (url == null || !url.isTextual() || url.asText().isEmpty()) {
                        throw OpenAiError.unsupported(partAt, "an image is taken by URL (image_url) only");
                    }
                    parts.add(ContentPart.imageUrl(url.asText()));
                }
                default -> throw OpenAiError.unsupported(partAt + ".type", "content parts of type '" + Http.shown(type) + "' are not offered");
            }
        }
        return parts;
    }
}
