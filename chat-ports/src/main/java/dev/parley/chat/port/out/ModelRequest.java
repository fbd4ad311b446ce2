package dev.parley.chat.port.out;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.ToolSpec;
import java.util.List;

/**
 * One call to a chat model: the model name (null for the adapter's default), the conversation
 * (system prompt first, then the history window, tool calls and their results), and the tools
 * the model may call, and the agent's model settings (each null for the model's default; an
 * adapter sends the ones its model takes).
 */
public record ModelRequest(String model, List<Message> messages, List<ToolSpec> tools, ModelSettings settings) {
    public ModelRequest {
        messages = List.copyOf(Require.notEmpty(messages, "messages"));
        tools = tools == null ? List.of() : List.copyOf(tools);
        settings = settings == null ? ModelSettings.DEFAULT : settings;
    }

    /** A request with the model's default settings. */
    public ModelRequest(String model, List<Message> messages, List<ToolSpec> tools) {
        this(model, messages, tools, ModelSettings.DEFAULT);
    }
}
