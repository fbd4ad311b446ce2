package dev.parley.chat.port.out;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.ToolSpec;
import java.util.List;

/**
 * One call to a chat model: the model name (null for the adapter's default), the conversation
 * (system prompt first, then the history window, tool calls and their results), and the tools
 * the model may call.
 */
public record ModelRequest(String model, List<Message> messages, List<ToolSpec> tools) {
    public ModelRequest {
        messages = List.copyOf(Require.notEmpty(messages, "messages"));
        tools = tools == null ? List.of() : List.copyOf(tools);
    }
}
