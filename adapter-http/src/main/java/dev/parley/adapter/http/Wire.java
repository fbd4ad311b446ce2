package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.AgentInfo;
import dev.parley.chat.port.in.RunOutcome;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Domain values as the JSON resources of the HTTP contract (field names, order and nulls as documented). */
final class Wire {
    private Wire() {}

    static ObjectNode thread(ChatThread t) {
        ObjectNode o = Json.object();
        o.put("id", t.id().value());
        o.put("object", "thread");
        o.put("agent_id", t.agentId());
        o.put("agent_version", t.agentVersion());
        o.put("title", t.title());
        o.put("created_at", Json.time(t.createdAt()));
        o.put("updated_at", Json.time(t.updatedAt()));
        o.set("metadata", metadata(t.metadata()));
        o.set("usage", usage(t.usage().tokens()));
        putCost(o, t.usage().costUsd());
        if (t.deletedAt() != null) {
            o.put("deleted_at", Json.time(t.deletedAt()));
        }
        return o;
    }

    static ObjectNode message(Message m) {
        ObjectNode o = Json.object();
        o.put("id", m.id().value());
        o.put("object", "message");
        o.put("thread_id", m.threadId().value());
        o.put("run_id", m.runId() == null ? null : m.runId().value());
        o.put("role", m.role().wireName());
        ArrayNode content = o.putArray("content");
        for (ContentPart part : m.content()) {
            ObjectNode p = content.addObject();
            p.put("type", part.type());
            if (part instanceof ContentPart.Text text) {
                p.put("text", text.text());
            } else if (part instanceof ContentPart.ImageUrl image) {
                p.put("url", image.url());
            }
        }
        o.put("status", m.status().wireName());
        o.put("created_at", Json.time(m.createdAt()));
        o.set("metadata", metadata(m.metadata()));
        ArrayNode calls = o.putArray("tool_calls");
        for (ToolCall call : m.toolCalls()) {
            calls.add(toolCall(call));
        }
        o.put("tool_call_id", m.toolCallId());
        o.put("parent_id", m.parentId() == null ? null : m.parentId().value());
        ObjectNode versions = o.putObject("versions");
        versions.put("index", m.versions().index());
        versions.put("count", m.versions().count());
        o.put("thinking", m.thinking());
        if (m.usage() == null) {
            o.putNull("usage");
        } else {
            o.set("usage", usage(m.usage()));
        }
        return o;
    }

    static ObjectNode run(Run r) {
        return run(r, List.of());
    }

    /** A run as lists and cancels show it, with the tool calls it waits to have decided ({@code required_action}). */
    static ObjectNode run(Run r, List<ToolCall> pendingApprovals) {
        ObjectNode o = Json.object();
        o.put("id", r.id().value());
        o.put("object", "run");
        o.put("thread_id", r.threadId().value());
        o.put("agent_id", r.agentId());
        o.put("agent_version", r.agentVersion());
        o.put("status", r.status().wireName());
        o.put("created_at", Json.time(r.createdAt()));
        o.put("started_at", Json.time(r.startedAt()));
        o.put("completed_at", Json.time(r.completedAt()));
        o.put("model", r.model());
        o.set("usage", usage(r.usage()));
        putCost(o, r.costUsd());
        if (r.error() == null) {
            o.putNull("error");
        } else {
            ObjectNode e = o.putObject("error");
            e.put("code", r.error().code());
            e.put("message", r.error().message());
        }
        putRequiredAction(o, pendingApprovals);
        return o;
    }

    /** A run with its steps, each step's cost at {@code price} (null: the run's model has none). */
    static ObjectNode runWithSteps(RunOutcome outcome, ModelPrice price) {
        ObjectNode o = run(outcome.run());
        if (outcome.instructions() != null) {
            o.put("agent_version", outcome.instructions().agentVersion());
            o.put("instructions", outcome.instructions().instructions());
            o.set("model_settings", modelSettings(outcome.instructions().settings()));
        }
        putRequiredAction(o, outcome.pendingApprovals());
        ArrayNode steps = o.putArray("steps");
        for (Step s : outcome.steps()) {
            ObjectNode step = step(s);
            putCost(step, price == null ? null : price.cost(s.usage()));
            steps.add(step);
        }
        return o;
    }

    /** {@code required_action}: the tool calls a run waiting for approval waits on, or null. */
    static void putRequiredAction(ObjectNode o, List<ToolCall> pending) {
        if (pending.isEmpty()) {
            o.putNull("required_action");
            return;
        }
        ObjectNode action = o.putObject("required_action");
        action.put("type", "approve_tool_calls");
        ArrayNode calls = action.putArray("tool_calls");
        for (ToolCall call : pending) {
            calls.add(toolCall(call));
        }
    }

    static ObjectNode step(Step s) {
        ObjectNode o = Json.object();
        o.put("id", s.id().value());
        o.put("object", "step");
        o.put("run_id", s.runId().value());
        o.put("type", s.type().wireName());
        o.put("status", s.status().wireName());
        o.put("started_at", Json.time(s.startedAt()));
        o.put("completed_at", Json.time(s.completedAt()));
        o.put("latency_ms", s.latencyMs());
        if (s.toolCall() == null) {
            o.putNull("tool_call");
        } else {
            ObjectNode call = toolCall(s.toolCall());
            call.put("output", s.output());
            call.put("error", s.error());
            o.set("tool_call", call);
        }
        o.set("usage", usage(s.usage()));
        return o;
    }

    static ObjectNode agent(AgentInfo a) {
        ObjectNode o = Json.object();
        o.put("id", a.id());
        o.put("name", a.name());
        o.put("description", a.description());
        o.put("model", a.model());
        ArrayNode tools = o.putArray("tools");
        for (ToolSpec tool : a.tools()) {
            ObjectNode t = tools.addObject();
            t.put("name", tool.name());
            t.put("description", tool.description());
            t.set("parameters", jsonOrString(tool.parametersSchema()));
        }
        return o;
    }

    static <T> ObjectNode page(Page<T> page, Function<T, ObjectNode> item) {
        ObjectNode o = Json.object();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (T t : page.items()) {
            data.add(item.apply(t));
        }
        o.put("has_more", page.hasMore());
        o.put("next_cursor", page.nextCursor());
        return o;
    }

    static ObjectNode usage(Usage u) {
        ObjectNode o = Json.object();
        o.put("input_tokens", u.inputTokens());
        o.put("input_cached_tokens", u.cachedInputTokens());
        o.put("output_tokens", u.outputTokens());
        o.put("total_tokens", u.totalTokens());
        return o;
    }

    /** {@code {"temperature"?, "max_output_tokens"?, "reasoning_effort"?}}: the settings given, the others left out. */
    static ObjectNode modelSettings(ModelSettings settings) {
        ObjectNode o = Json.object();
        if (settings.temperature() != null) {
            o.put("temperature", settings.temperature());
        }
        if (settings.maxOutputTokens() != null) {
            o.put("max_output_tokens", settings.maxOutputTokens());
        }
        if (settings.reasoningEffort() != null) {
            o.put("reasoning_effort", settings.reasoningEffort().wireName());
        }
        return o;
    }

    static ObjectNode toolCall(ToolCall call) {
        ObjectNode o = Json.object();
        o.put("id", call.id());
        o.put("name", call.name());
        o.set("arguments", jsonOrString(call.arguments()));
        return o;
    }

    /** The heartbeat's data line: no run id, no seq (it is not part of the run's log). */
    static ObjectNode heartbeat() {
        ObjectNode o = Json.object();
        o.put("type", "heartbeat");
        return o;
    }

    /** An event as its SSE {@code data} and WebSocket frame: {@code type}, {@code run_id}, {@code seq}, then its own fields. */
    static ObjectNode event(RunEvent event) {
        return event.accept(EVENT);
    }

    /**
     * {@link #event} as JSON text, with {@code request_id} last when given (a WebSocket frame). A
     * {@code token}, the event of every streamed word, is written from a template, without a tree:
     * the same text Jackson writes for the tree.
     */
    static String eventJson(RunEvent event, String requestId) {
        if (event instanceof RunEvent.Token token) {
            String content = token.content();
            StringBuilder json = new StringBuilder(80 + content.length() + (content.length() >> 3));
            json.append("{\"type\":\"token\",\"run_id\":\"");
            QUOTE.quoteAsString(token.runId().value(), json);
            json.append("\",\"seq\":").append(token.seq()).append(",\"content\":\"");
            QUOTE.quoteAsString(content, json);
            json.append('"');
            if (requestId != null) {
                json.append(",\"request_id\":\"");
                QUOTE.quoteAsString(requestId, json);
                json.append('"');
            }
            return json.append('}').toString();
        }
        ObjectNode frame = event(event);
        if (requestId != null) {
            frame.put("request_id", requestId);
        }
        return Json.write(frame);
    }

    private static final JsonStringEncoder QUOTE = JsonStringEncoder.getInstance();

    private static final RunEvent.Visitor<ObjectNode> EVENT = new RunEvent.Visitor<>() {
        @Override
        public ObjectNode visit(RunEvent.RunStarted e) {
            ObjectNode o = eventHead(e);
            o.put("thread_id", e.threadId().value());
            o.put("message_id", e.messageId().value());
            o.put("agent_id", e.agentId());
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.Token e) {
            return eventHead(e).put("content", e.content());
        }

        @Override
        public ObjectNode visit(RunEvent.Thinking e) {
            return eventHead(e).put("content", e.content());
        }

        @Override
        public ObjectNode visit(RunEvent.TraceStart e) {
            ObjectNode o = eventHead(e);
            o.put("step_id", e.stepId().value());
            o.set("tool_call", toolCall(e.toolCall()));
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.TraceUpdate e) {
            ObjectNode o = eventHead(e);
            o.put("step_id", e.stepId().value());
            o.put("content", e.content());
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.TraceEnd e) {
            ObjectNode o = eventHead(e);
            o.put("step_id", e.stepId().value());
            o.put("status", e.status().wireName());
            o.put("output", e.output());
            o.put("error", e.error());
            o.put("latency_ms", e.latencyMs());
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.ApprovalRequired e) {
            ObjectNode o = eventHead(e);
            o.put("step_id", e.stepId().value());
            o.set("tool_call", toolCall(e.toolCall()));
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.ApprovalDecided e) {
            ObjectNode o = eventHead(e);
            o.put("step_id", e.stepId().value());
            o.put("tool_call_id", e.toolCallId());
            o.put("decision", e.decision().wireName());
            o.put("reason", e.reason());
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.Done e) {
            ObjectNode o = eventHead(e);
            o.put("thread_id", e.threadId().value());
            o.put("message_id", e.messageId().value());
            o.set("usage", usage(e.usage()));
            o.put("tokens_used", e.usage().totalTokens());
            putCost(o, e.costUsd());
            o.put("finish_reason", e.finishReason().wireName());
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.Error e) {
            ObjectNode o = eventHead(e);
            o.put("code", e.code());
            o.put("message", e.message());
            return o;
        }

        @Override
        public ObjectNode visit(RunEvent.Cancelled e) {
            return eventHead(e).put("message_id", e.messageId() == null ? null : e.messageId().value());
        }

        @Override
        public ObjectNode visit(RunEvent.Heartbeat e) {
            return heartbeat();
        }
    };

    private static ObjectNode eventHead(RunEvent event) {
        ObjectNode o = Json.object();
        o.put("type", event.type());
        o.put("run_id", event.runId().value());
        o.put("seq", event.seq());
        return o;
    }

    static void putCost(ObjectNode o, BigDecimal cost) {
        if (cost == null) {
            o.putNull("cost_usd");
        } else {
            o.put("cost_usd", cost.signum() == 0 ? BigDecimal.ZERO : cost.stripTrailingZeros());
        }
    }

    private static ObjectNode metadata(Map<String, String> metadata) {
        ObjectNode o = Json.object();
        metadata.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> o.put(e.getKey(), e.getValue()));
        return o;
    }

    /** A JSON text the model or a tool author wrote: embedded as JSON when it parses, else kept as a string. */
    static JsonNode jsonOrString(String text) {
        try {
            return Json.parse(text);
        } catch (Exception e) {
            return Json.object().textNode(text);
        }
    }
}
