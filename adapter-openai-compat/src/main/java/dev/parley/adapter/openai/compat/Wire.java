package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunOutcome;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** The OpenAI objects of the facade (responses, their items, conversations, models, usage) as JSON. */
final class Wire {
    /** Buffers go back to a shared pool after each use instead of being kept per (virtual) thread. */
    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                    .build())
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Every tool step is shown as a call to this one MCP server: Parley's own tools run on the server. */
    static final String SERVER_LABEL = "parley";
    private static final String RESPONSE_PREFIX = "resp_";

    private Wire() {}

    static ObjectNode object() {
        return NODES.objectNode();
    }

    static ArrayNode array() {
        return NODES.arrayNode();
    }

    /**
     * Writes {@code node} as the response's body, straight to its output stream: {@code ctx.result} would copy
     * it there through a buffer of Javalin's response buffer size (32 KiB by default), allocated per response.
     */
    static void respond(Context ctx, JsonNode node) {
        try {
            ctx.outputStream().write(MAPPER.writeValueAsBytes(node));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- ids ----

    /**
     * A response: a run, or the part of it after its {@code segment}-th wait for approval (an approval
     * pause ends a response; the answer to it starts the next one of the same run).
     */
    record Ref(RunId run, int segment) {
        String id() {
            String body = run.value().substring(RunId.PREFIX.length() + 1);
            return RESPONSE_PREFIX + body + (segment == 0 ? "" : "_" + segment);
        }

        Ref next() {
            return new Ref(run, segment + 1);
        }
    }

    /** The response id of a run's first response. */
    static String responseId(RunId run) {
        return new Ref(run, 0).id();
    }

    /** The response an id names, or empty when it cannot name one. */
    static Optional<Ref> ref(String responseId) {
        if (responseId == null || !responseId.startsWith(RESPONSE_PREFIX) || responseId.length() > 100) {
            return Optional.empty();
        }
        String rest = responseId.substring(RESPONSE_PREFIX.length());
        int segment = 0;
        int cut = rest.indexOf('_');
        if (cut >= 0) {
            String k = rest.substring(cut + 1);
            if (!k.matches("[1-9][0-9]{0,3}")) {
                return Optional.empty();
            }
            segment = Integer.parseInt(k);
            rest = rest.substring(0, cut);
        }
        int s = segment;
        return RunId.parse(RunId.PREFIX + "_" + rest).map(run -> new Ref(run, s));
    }

    /** The id of the output message item a run's text goes to (the same live and read back). */
    static String messageItemId(RunId run) {
        return "msg_" + run.value().substring(RunId.PREFIX.length() + 1);
    }

    /** The id of the reasoning item of a run. */
    static String reasoningItemId(RunId run) {
        return "rs_" + run.value().substring(RunId.PREFIX.length() + 1);
    }

    static long seconds(Instant instant) {
        return instant == null ? 0 : instant.getEpochSecond();
    }

    // ---- responses ----

    /** OpenAI's reason of a response whose answer stopped at its output token limit. */
    static final String MAX_OUTPUT_TOKENS = "max_output_tokens";


    /** What OpenAI calls a response's status for a run's: a run that waits for approval ends its response. */
    static String status(RunStatus status) {
        return switch (status) {
            case QUEUED -> "queued";
            case IN_PROGRESS -> "in_progress";
            case REQUIRES_ACTION, COMPLETED -> "completed";
            case FAILED -> "failed";
            case CANCELLED -> "cancelled";
        };
    }

    /**
     * A response object with every member the SDKs read: the run's id, status, model (the agent),
     * conversation (the thread), usage and error, {@code output} as given, and what {@code echo} says
     * of its settings and the response it continued.
     */
    static ObjectNode response(Ref ref, Run run, ArrayNode output, Map<String, String> metadata, boolean background,
                               RunSettings.Echo echo) {
        return response(ref, run, output, metadata, background, echo, false);
    }

    /**
     * As {@link #response(Ref, Run, ArrayNode, Map, boolean, RunSettings.Echo)}; {@code cut}: the run's
     * answer stopped at the output token limit, so the response is {@code incomplete}.
     */
    static ObjectNode response(Ref ref, Run run, ArrayNode output, Map<String, String> metadata, boolean background,
                               RunSettings.Echo echo, boolean cut) {
        ObjectNode o = object();
        o.put("id", ref.id());
        o.put("object", "response");
        o.put("created_at", seconds(run.createdAt()));
        o.put("status", status(run.status()));
        o.put("background", background);
        if (run.completedAt() != null) {
            o.put("completed_at", seconds(run.completedAt()));
        } else {
            o.putNull("completed_at");
        }
        if (run.status() == RunStatus.FAILED && run.error() != null) {
            ObjectNode error = o.putObject("error");
            error.put("code", "server_error");
            error.put("message", run.error().message());
        } else {
            o.putNull("error");
        }
        if (run.status() == RunStatus.CANCELLED) {
            o.putObject("incomplete_details").put("reason", "cancelled");
        } else if (cut) {
            o.put("status", "incomplete");
            o.putObject("incomplete_details").put("reason", MAX_OUTPUT_TOKENS);
        } else {
            o.putNull("incomplete_details");
        }
        o.putNull("instructions");
        o.put("model", run.agentId());
        ObjectNode meta = o.putObject("metadata");
        metadata.forEach(meta::put);
        o.set("output", output);
        o.put("parallel_tool_calls", false);
        o.putNull("temperature");
        o.put("tool_choice", "auto");
        o.putArray("tools");
        o.putNull("top_p");
        o.putNull("max_output_tokens");
        o.putNull("previous_response_id");
        o.putObject("conversation").put("id", run.threadId().value());
        o.putNull("reasoning");
        o.put("store", true);
        o.putObject("text").putObject("format").put("type", "text");
        o.put("truncation", "disabled");
        o.set("usage", usage(run.usage()));
        o.putNull("user");
        echo.writeTo(o);
        return o;
    }

    /** A response as the store has it: its tool steps as {@code mcp_call} items, then its answer. */
    static ObjectNode response(RunOutcome outcome, Map<String, String> metadata) {
        Run run = outcome.run();
        ArrayNode output = array();
        Message answer = outcome.assistantMessage();
        if (answer != null && answer.thinking() != null && !answer.thinking().isEmpty()) {
            output.add(reasoning(run.id(), answer.thinking()));
        }
        for (Step step : outcome.steps()) {
            if (step.type() == StepType.TOOL_CALL && step.toolCall() != null) {
                if (step.status() == StepStatus.AWAITING_APPROVAL) {
                    output.add(approvalRequest(step.toolCall()));
                } else {
                    output.add(mcpCall(step.id().value(), step.toolCall(), step.status(), step.output(), step.error()));
                }
            }
        }
        boolean cut = outcome.finishReason() == FinishReason.LENGTH;
        if (answer != null && !answer.text().isEmpty()) {
            output.add(outputMessage(messageItemId(run.id()), answer.text(),
                    run.status() == RunStatus.COMPLETED && !cut ? "completed" : "incomplete"));
        }
        return response(new Ref(run.id(), 0), run, output, metadata, false, RunSettings.Echo.of(new Ref(run.id(), 0),
                outcome.instructions()), cut);
    }

    static ObjectNode usage(Usage usage) {
        ObjectNode o = object();
        o.put("input_tokens", usage.inputTokens());
        o.putObject("input_tokens_details").put("cached_tokens", usage.cachedInputTokens());
        o.put("output_tokens", usage.outputTokens());
        o.putObject("output_tokens_details").put("reasoning_tokens", 0);
        o.put("total_tokens", usage.inputTokens() + usage.outputTokens());
        return o;
    }

    static ObjectNode outputMessage(String id, String text, String status) {
        ObjectNode o = object();
        o.put("id", id);
        o.put("type", "message");
        o.put("role", "assistant");
        o.put("status", status);
        ArrayNode content = o.putArray("content");
        if (text != null) {
            content.add(outputText(text));
        }
        return o;
    }

    static ObjectNode outputText(String text) {
        ObjectNode part = object();
        part.put("type", "output_text");
        part.put("text", text);
        part.putArray("annotations");
        part.putArray("logprobs");
        return part;
    }

    static ObjectNode reasoning(RunId run, String summary) {
        ObjectNode o = object();
        o.put("id", reasoningItemId(run));
        o.put("type", "reasoning");
        ArrayNode parts = o.putArray("summary");
        if (summary != null) {
            parts.addObject().put("type", "summary_text").put("text", summary);
        }
        return o;
    }

    /** A tool step as OpenAI's remote MCP call: Parley ran it on the server. */
    static ObjectNode mcpCall(String id, ToolCall call, StepStatus status, String output, String error) {
        ObjectNode o = object();
        o.put("id", id);
        o.put("type", "mcp_call");
        o.put("server_label", SERVER_LABEL);
        o.put("name", call.name());
        o.put("arguments", call.arguments() == null ? "{}" : call.arguments());
        o.put("output", output);
        o.put("error", error);
        o.put("status", status == null ? "in_progress" : switch (status) {
            case IN_PROGRESS, AWAITING_APPROVAL -> "in_progress";
            case COMPLETED -> "completed";
            case FAILED, DENIED -> "failed";
            case CANCELLED -> "incomplete";
        });
        return o;
    }

    /** A tool call waiting for a person's decision; its id is the tool call's. */
    static ObjectNode approvalRequest(ToolCall call) {
        ObjectNode o = object();
        o.put("id", call.id());
        o.put("type", "mcp_approval_request");
        o.put("server_label", SERVER_LABEL);
        o.put("name", call.name());
        o.put("arguments", call.arguments() == null ? "{}" : call.arguments());
        return o;
    }

    // ---- items of conversations and inputs ----

    /** A stored message as a conversation item; empty for what OpenAI has no message for (tool results, empty turns). */
    static Optional<ObjectNode> item(Message message) {
        if (message.role() == Role.TOOL || message.role() == Role.SYSTEM) {
            return Optional.empty();
        }
        boolean user = message.role() == Role.USER;
        ObjectNode o = object();
        o.put("id", message.id().value());
        o.put("type", "message");
        o.put("role", user ? "user" : "assistant");
        o.put("status", message.status() == MessageStatus.INCOMPLETE ? "incomplete" : "completed");
        ArrayNode content = o.putArray("content");
        for (ContentPart part : message.content()) {
            if (part instanceof ContentPart.Text text) {
                if (user) {
                    content.addObject().put("type", "input_text").put("text", text.text());
                } else {
                    content.add(outputText(text.text()));
                }
            } else if (part instanceof ContentPart.ImageUrl image) {
                content.addObject().put("type", "input_image").put("image_url", image.url()).put("detail", "auto");
            }
        }
        if (content.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(o);
    }

    /** OpenAI's list page. */
    static ObjectNode list(ArrayNode data, boolean hasMore) {
        ObjectNode page = object();
        page.put("object", "list");
        page.set("data", data);
        page.put("first_id", data.isEmpty() ? null : data.get(0).path("id").asText());
        page.put("last_id", data.isEmpty() ? null : data.get(data.size() - 1).path("id").asText());
        page.put("has_more", hasMore);
        return page;
    }

    static ObjectNode conversation(ThreadId id, Instant createdAt, Map<String, String> metadata) {
        ObjectNode o = object();
        o.put("id", id.value());
        o.put("object", "conversation");
        o.put("created_at", seconds(createdAt));
        ObjectNode meta = o.putObject("metadata");
        metadata.forEach(meta::put);
        return o;
    }

    static ObjectNode model(String id, Instant created) {
        ObjectNode o = object();
        o.put("id", id);
        o.put("object", "model");
        o.put("created", seconds(created));
        o.put("owned_by", "parley");
        return o;
    }
}
