package dev.parley.adapter.jdbc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.model.WireEnum;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON columns: metadata maps, message content, tool calls and run event payloads. Output is
 * already in storable form ({@link Text#putJson}); input is decoded before parsing. Field names follow
 * the HTTP contract so that the stored documents read like the API.
 */
final class Json {
    /**
     * The adapter's one mapper. Its buffers go back to a shared pool after each use: the default pool
     * keeps them per thread, and a virtual thread per request or run would allocate them anew each time.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                    .build())
            .build();

    private Json() {}

    static String metadata(Map<String, String> metadata) {
        ObjectNode node = MAPPER.createObjectNode();
        metadata.forEach(node::put);
        return write(node);
    }

    /** Read token by token (no tree): every message of a history window has this column and {@code content}. */
    static Map<String, String> metadata(String stored) {
        Map<String, String> out = new LinkedHashMap<>();
        if (stored.equals("{}")) {
            return out;
        }
        try (JsonParser p = parser(stored)) {
            expect(p, JsonToken.START_OBJECT);
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                out.put(name, scalarText(p, p.nextToken()));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("stored JSON is unreadable", e);
        }
    }

    static String content(List<ContentPart> parts) {
        ArrayNode array = MAPPER.createArrayNode();
        for (ContentPart part : parts) {
            ObjectNode node = array.addObject().put("type", part.type());
            if (part instanceof ContentPart.Text t) {
                node.put("text", t.text());
            } else if (part instanceof ContentPart.ImageUrl u) {
                node.put("url", u.url());
            }
        }
        return write(array);
    }

    static List<ContentPart> content(String stored) {
        List<ContentPart> parts = new ArrayList<>(1);
        try (JsonParser p = parser(stored)) {
            expect(p, JsonToken.START_ARRAY);
            for (JsonToken part = p.nextToken(); part != JsonToken.END_ARRAY; part = p.nextToken()) {
                if (part != JsonToken.START_OBJECT) {
                    throw new IllegalStateException("stored content part is not an object");
                }
                String type = "";
                String text = "";
                String url = "";
                for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                    String name = p.currentName();
                    String value = scalarText(p, p.nextToken());
                    switch (name) {
                        case "type" -> type = value;
                        case "text" -> text = value;
                        case "url" -> url = value;
                        default -> { }
                    }
                }
                switch (type) {
                    case "text" -> parts.add(ContentPart.text(text));
                    case "image_url" -> parts.add(ContentPart.imageUrl(url));
                    default -> throw new IllegalStateException("unknown content part type " + type);
                }
            }
            return parts;
        } catch (IOException e) {
            throw new IllegalStateException("stored JSON is unreadable", e);
        }
    }

    /** The calls as a JSON array, or null when there are none. */
    static String toolCalls(List<ToolCall> calls) {
        if (calls.isEmpty()) {
            return null;
        }
        ArrayNode array = MAPPER.createArrayNode();
        for (ToolCall call : calls) {
            toolCall(array.addObject(), call);
        }
        return write(array);
    }

    static List<ToolCall> toolCalls(String stored) {
        if (stored == null) {
            return List.of();
        }
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode node : read(stored)) {
            calls.add(toolCall(node));
        }
        return calls;
    }

    /** The event's fields but {@code type}, {@code run_id} and {@code seq}, which have their own columns. */
    static String eventPayload(RunEvent event) {
        return write(event.accept(PAYLOAD));
    }

    /** The same fields as a tree, for the chunks of the event log (which need no escaping: they are bytes). */
    static ObjectNode eventNode(RunEvent event) {
        return event.accept(PAYLOAD);
    }

    private static final RunEvent.Visitor<ObjectNode> PAYLOAD = new RunEvent.Visitor<>() {
        @Override
        public ObjectNode visit(RunEvent.RunStarted e) {
            return MAPPER.createObjectNode().put("thread_id", e.threadId().value()).put("message_id", e.messageId().value())
                    .put("agent_id", e.agentId());
        }

        @Override
        public ObjectNode visit(RunEvent.Token e) {
            return MAPPER.createObjectNode().put("content", e.content());
        }

        @Override
        public ObjectNode visit(RunEvent.Thinking e) {
            return MAPPER.createObjectNode().put("content", e.content());
        }

        @Override
        public ObjectNode visit(RunEvent.TraceStart e) {
            ObjectNode n = MAPPER.createObjectNode().put("step_id", e.stepId().value());
            toolCall(n.putObject("tool_call"), e.toolCall());
            return n;
        }

        @Override
        public ObjectNode visit(RunEvent.TraceUpdate e) {
            return MAPPER.createObjectNode().put("step_id", e.stepId().value()).put("content", e.content());
        }

        @Override
        public ObjectNode visit(RunEvent.TraceEnd e) {
            return MAPPER.createObjectNode().put("step_id", e.stepId().value()).put("status", e.status().wireName())
                    .put("output", e.output()).put("error", e.error()).put("latency_ms", e.latencyMs());
        }

        @Override
        public ObjectNode visit(RunEvent.ApprovalRequired e) {
            ObjectNode n = MAPPER.createObjectNode().put("step_id", e.stepId().value());
            toolCall(n.putObject("tool_call"), e.toolCall());
            return n;
        }

        @Override
        public ObjectNode visit(RunEvent.ApprovalDecided e) {
            return MAPPER.createObjectNode().put("step_id", e.stepId().value()).put("tool_call_id", e.toolCallId())
                    .put("decision", e.decision().wireName()).put("reason", e.reason());
        }

        @Override
        public ObjectNode visit(RunEvent.Done e) {
            ObjectNode n = MAPPER.createObjectNode().put("thread_id", e.threadId().value())
                    .put("message_id", e.messageId().value());
            usage(n.putObject("usage"), e.usage());
            if (e.finishReason() != FinishReason.STOP) {
                n.put("finish_reason", e.finishReason().wireName()); // only then, so a finished answer's event keeps its size
            }
            return n.put("cost_usd", e.costUsd() == null ? null : e.costUsd().toString());
        }

        @Override
        public ObjectNode visit(RunEvent.Error e) {
            return MAPPER.createObjectNode().put("code", e.code()).put("message", e.message());
        }

        @Override
        public ObjectNode visit(RunEvent.Cancelled e) {
            return MAPPER.createObjectNode().put("message_id", e.messageId() == null ? null : e.messageId().value());
        }

        @Override
        public ObjectNode visit(RunEvent.Heartbeat e) {
            throw new IllegalArgumentException("not a stored event type: " + e.type());
        }
    };

    static RunEvent event(RunId runId, long seq, String type, String stored) {
        return event(runId, seq, type, read(stored));
    }

    /** The event of {@code type} whose fields (but type, run and seq) are {@code n}. */
    static RunEvent event(RunId runId, long seq, String type, JsonNode n) {
        return switch (type) {
            case "run_started" -> new RunEvent.RunStarted(runId, seq, new ThreadId(n.path("thread_id").asText()),
                    new MessageId(n.path("message_id").asText()), n.path("agent_id").asText());
            case "token" -> new RunEvent.Token(runId, seq, n.path("content").asText());
            case "thinking" -> new RunEvent.Thinking(runId, seq, n.path("content").asText());
            case "trace_start" -> new RunEvent.TraceStart(runId, seq, new StepId(n.path("step_id").asText()),
                    toolCall(n.path("tool_call")));
            case "trace_update" -> new RunEvent.TraceUpdate(runId, seq, new StepId(n.path("step_id").asText()),
                    n.path("content").asText());
            case "trace_end" -> new RunEvent.TraceEnd(runId, seq, new StepId(n.path("step_id").asText()),
                    wire(StepStatus.class, n.path("status").asText()), text(n, "output"), text(n, "error"),
                    n.path("latency_ms").asLong());
            case "approval_required" -> new RunEvent.ApprovalRequired(runId, seq, new StepId(n.path("step_id").asText()),
                    toolCall(n.path("tool_call")));
            case "approval_decided" -> new RunEvent.ApprovalDecided(runId, seq, new StepId(n.path("step_id").asText()),
                    n.path("tool_call_id").asText(), wire(ApprovalDecision.class, n.path("decision").asText()), text(n, "reason"));
            case "done" -> new RunEvent.Done(runId, seq, new ThreadId(n.path("thread_id").asText()),
                    new MessageId(n.path("message_id").asText()), usage(n.path("usage")),
                    n.hasNonNull("cost_usd") ? new BigDecimal(n.get("cost_usd").asText()) : null,
                    n.hasNonNull("finish_reason") ? wire(FinishReason.class, n.get("finish_reason").asText()) : FinishReason.STOP);
            case "error" -> new RunEvent.Error(runId, seq, n.path("code").asText(), n.path("message").asText());
            case "cancelled" -> new RunEvent.Cancelled(runId, seq,
                    n.hasNonNull("message_id") ? new MessageId(n.get("message_id").asText()) : null);
            default -> throw new IllegalStateException("unknown stored event type " + type);
        };
    }

    static <E extends Enum<E> & WireEnum> E wire(Class<E> type, String name) {
        return WireEnum.fromWire(type, name)
                .orElseThrow(() -> new IllegalStateException("unknown " + type.getSimpleName() + " " + name));
    }

    private static void toolCall(ObjectNode node, ToolCall call) {
        node.put("id", call.id()).put("name", call.name()).put("arguments", call.arguments());
    }

    private static ToolCall toolCall(JsonNode node) {
        return new ToolCall(node.path("id").asText(), node.path("name").asText(), node.path("arguments").asText());
    }

    private static void usage(ObjectNode node, Usage usage) {
        node.put("input_tokens", usage.inputTokens()).put("output_tokens", usage.outputTokens())
                .put("estimated", usage.estimated());
        if (usage.cachedInputTokens() > 0) {
            node.put("cached_input_tokens", usage.cachedInputTokens());
        }
    }

    private static Usage usage(JsonNode node) {
        long input = node.path("input_tokens").asLong();
        return new Usage(input, Math.min(input, node.path("cached_input_tokens").asLong()), node.path("output_tokens").asLong(),
                node.path("estimated").asBoolean());
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String write(JsonNode node) {
        try {
            return Text.putJson(MAPPER.writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private static JsonParser parser(String stored) throws IOException {
        return MAPPER.createParser(Text.getJson(stored));
    }

    private static void expect(JsonParser p, JsonToken expected) throws IOException {
        if (p.nextToken() != expected) {
            throw new IllegalStateException("stored JSON is not " + (expected == JsonToken.START_ARRAY ? "an array" : "an object"));
        }
    }

    /** A value's text as {@link JsonNode#asText()} gives it: a scalar's text, empty for an object or array (skipped). */
    private static String scalarText(JsonParser p, JsonToken value) throws IOException {
        if (value == JsonToken.START_OBJECT || value == JsonToken.START_ARRAY) {
            p.skipChildren();
            return "";
        }
        return p.getText();
    }

    private static JsonNode read(String stored) {
        try {
            return MAPPER.readTree(Text.getJson(stored));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is unreadable", e);
        }
    }
}
