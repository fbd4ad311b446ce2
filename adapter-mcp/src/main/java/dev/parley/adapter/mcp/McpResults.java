package dev.parley.adapter.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.chat.model.ToolException;
import io.modelcontextprotocol.spec.McpSchema;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** What a call's result and progress become in Parley: text for the model, a failed step, a progress line. */
final class McpResults {
    private McpResults() {
    }

    /**
     * The result as text: its text contents (one per line), a short placeholder for images, audio and
     * resources, or its structured content as JSON when it has no content. A result the server marked
     * {@code isError} is a {@link ToolException} with the server's message.
     */
    static String text(McpSchema.CallToolResult result, ObjectMapper mapper, String server) {
        if (result == null) {
            throw new ToolException("the MCP server '" + server + "' gave no result");
        }
        List<String> parts = new ArrayList<>();
        for (McpSchema.Content content : result.content() == null ? List.<McpSchema.Content>of() : result.content()) {
            parts.add(describe(content));
        }
        if (parts.isEmpty() && result.structuredContent() != null) {
            try {
                parts.add(mapper.writeValueAsString(result.structuredContent()));
            } catch (JsonProcessingException e) {
                parts.add(String.valueOf(result.structuredContent()));
            }
        }
        String text = String.join("\n", parts);
        if (Boolean.TRUE.equals(result.isError())) {
            throw new ToolException(text.isBlank() ? "the MCP server '" + server + "' reported an error" : text);
        }
        return text;
    }

    private static String describe(McpSchema.Content content) {
        if (content instanceof McpSchema.TextContent text) {
            return text.text();
        }
        if (content instanceof McpSchema.ImageContent image) {
            return "[image " + image.mimeType() + "]";
        }
        if (content instanceof McpSchema.AudioContent audio) {
            return "[audio " + audio.mimeType() + "]";
        }
        if (content instanceof McpSchema.EmbeddedResource embedded) {
            if (embedded.resource() instanceof McpSchema.TextResourceContents text) {
                return text.text();
            }
            return "[resource " + embedded.resource().uri() + "]";
        }
        if (content instanceof McpSchema.ResourceLink link) {
            return "[resource link " + link.uri() + "]";
        }
        return "[" + content.type() + "]";
    }

    /** A progress notification as a line: {@code progress 2/5: message}, the total and message when given. */
    static String progress(McpSchema.ProgressNotification notification) {
        StringBuilder line = new StringBuilder("progress ").append(number(notification.progress()));
        if (notification.total() != null) {
            line.append('/').append(number(notification.total()));
        }
        if (notification.message() != null && !notification.message().isBlank()) {
            line.append(": ").append(notification.message().strip());
        }
        return line.toString();
    }

    private static String number(Double value) {
        if (value == null) {
            return "?";
        }
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}
