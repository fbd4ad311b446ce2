package dev.parley.chat.port.out;

import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.util.List;

/**
 * What a model answered: its text (the concatenation of the streamed tokens), the tool calls it
 * asked for (complete, in order), the usage it reported (null when it reported none), its
 * finish reason (e.g. {@code stop}, {@code tool_calls}, {@code length}) and the model that
 * actually answered (may be null).
 */
public record ModelResponse(String text, List<ToolCall> toolCalls, Usage usage, String finishReason, String model) {
    public ModelResponse {
        text = text == null ? "" : text;
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public static ModelResponse text(String text, Usage usage) {
        return new ModelResponse(text, List.of(), usage, "stop", null);
    }

    public boolean hasToolCalls() {
        return !toolCalls.isEmpty();
    }
}
