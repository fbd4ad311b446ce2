package dev.parley.adapter.openai;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.out.ModelRequest;
import java.util.Map;

/**
 * Writes the body of {@code POST /chat/completions} from a {@link ModelRequest}, following the
 * Chat Completions reference: system/user/assistant/tool messages, user content as an array of
 * {@code text} and {@code image_url} parts when it holds an image, assistant {@code tool_calls},
 * tools as {@code {"type":"function","function":{name, description, parameters}}}.
 */
final class ChatCompletionsRequest {
    private final ObjectMapper json;
    private final OpenAiSettings settings;

    ChatCompletionsRequest(ObjectMapper json, OpenAiSettings settings) {
        this.json = json;
        this.settings = settings;
    }

    /** The model that will be asked: the request's, else the configured one. */
    String modelFor(ModelRequest request) {
        return request.model() == null || request.model().isBlank() ? settings.model() : request.model();
    }

    byte[] body(ModelRequest request) {
        ObjectNode root = json.createObjectNode();
        root.put("model", modelFor(request));
        ArrayNode messages = root.putArray("messages");
        for (Message m : request.messages()) {
            messages.add(message(m));
        }
        if (!request.tools().isEmpty()) {
            ArrayNode tools = root.putArray("tools");
            for (ToolSpec spec : request.tools()) {
                tools.add(tool(spec));
            }
        }
        for (Map.Entry<String, JsonNode> option : settings.options().entrySet()) {
            root.set(option.getKey(), option.getValue());
        }
        // the run's settings (the agent's, overridden by the send's own) win over the client's defaults; Chat
        // Completions names them temperature, max_completion_tokens (max_tokens, deprecated by OpenAI, where the
        // server reads only that) and reasoning_effort
        ModelSettings run = request.settings();
        if (run.temperature() != null) {
            root.put("temperature", run.temperature());
        }
        if (run.maxOutputTokens() != null) {
            root.remove(OpenAiSettings.MAX_COMPLETION_TOKENS);
            root.remove(OpenAiSettings.MAX_TOKENS);
            root.put(settings.maxTokensParameter(), run.maxOutputTokens());
        }
        if (run.reasoningEffort() != null) {
            root.put("reasoning_effort", run.reasoningEffort().wireName());
        }
        root.put("stream", settings.streaming());
        if (settings.streaming() && settings.includeUsage()) {
            root.putObject("stream_options").put("include_usage", true);
        }
        try {
            return json.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new ModelException("model_error", "The model request could not be written", null, e);
        }
    }

    private ObjectNode message(Message m) {
        ObjectNode node = json.createObjectNode();
        switch (m.role()) {
            case SYSTEM -> {
                node.put("role", "system");
                node.put("content", m.text());
            }
            case USER -> {
                node.put("role", "user");
                if (m.content().stream().anyMatch(p -> p instanceof ContentPart.ImageUrl)) {
                    ArrayNode parts = node.putArray("content");
                    for (ContentPart part : m.content()) {
                        if (part instanceof ContentPart.Text t) {
                            parts.addObject().put("type", "text").put("text", t.text());
                        } else if (part instanceof ContentPart.ImageUrl img) {
                            ObjectNode p = parts.addObject().put("type", "image_url");
                            p.putObject("image_url").put("url", img.url());
                        }
                    }
                } else {
                    node.put("content", m.text());
                }
            }
            case ASSISTANT -> {
                node.put("role", "assistant");
                String text = m.text();
                if (text.isEmpty() && !m.toolCalls().isEmpty()) {
                    node.putNull("content");
                } else {
                    node.put("content", text);
                }
                if (!m.toolCalls().isEmpty()) {
                    ArrayNode calls = node.putArray("tool_calls");
                    for (ToolCall call : m.toolCalls()) {
                        ObjectNode c = calls.addObject();
                        c.put("id", call.id());
                        c.put("type", "function");
                        c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
                    }
                }
            }
            case TOOL -> {
                node.put("role", "tool");
                node.put("tool_call_id", m.toolCallId());
                node.put("content", m.text());
            }
        }
        return node;
    }

    private ObjectNode tool(ToolSpec spec) {
        JsonNode schema;
        try {
            schema = json.readTree(spec.parametersSchema());
        } catch (JsonProcessingException e) {
            schema = null;
        }
        if (schema == null || !schema.isObject()) {
            throw new ModelException("model_error", "The parameters schema of tool " + spec.name() + " is not a JSON object");
        }
        ObjectNode node = json.createObjectNode().put("type", "function");
        ObjectNode function = node.putObject("function").put("name", spec.name());
        if (!spec.description().isBlank()) {
            function.put("description", spec.description());
        }
        function.set("parameters", schema);
        return node;
    }
}
