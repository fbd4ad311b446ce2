package dev.parley.adapter.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link ModelResponse} from Chat Completions chunks (or one whole completion), passing
 * answer deltas to {@link ModelStreamListener#onToken} and reasoning deltas to
 * {@link ModelStreamListener#onThinking} as they come.
 *
 * <p>Only choice 0 is read. Reasoning is taken from {@code reasoning_content} (DeepSeek, vLLM,
 * llama.cpp), else {@code reasoning} (Ollama, newer vLLM), else {@code thinking}; one of them per
 * delta, so a server that sends two aliases is not counted twice. Tool-call deltas are joined by
 * {@code index}: the first delta of a call brings its id and name, later ones argument fragments;
 * a delta with a new id at a used index starts a new call (servers that send complete calls all
 * at index 0). A refusal is answer text. Usage comes from any chunk that carries a non-null
 * {@code usage} object, the last one winning, with the prompt tokens it says were read from the
 * cache. Not thread-safe.
 */
final class CompletionAssembler {
    private static final String[] REASONING_FIELDS = {"reasoning_content", "reasoning", "thinking"};

    private final ModelStreamListener listener;
    private final StringBuilder text = new StringBuilder();
    private final List<PendingCall> calls = new ArrayList<>();
    private final Map<Integer, PendingCall> callsByIndex = new HashMap<>();
    private boolean emitted;
    private String finishReason;
    private Usage usage;
    private String model;

    CompletionAssembler(ModelStreamListener listener) {
        this.listener = listener;
    }

    /** Whether a delta (text, reasoning or tool call) has arrived; after that nothing is retried. */
    boolean emitted() {
        return emitted;
    }

    /** The finish reason, or null while the model has not said it is done. */
    String finishReason() {
        return finishReason;
    }

    /** One {@code chat.completion.chunk}. */
    void acceptChunk(JsonNode chunk) {
        if (!chunk.isObject()) {
            throw badResponse("a stream event is not a JSON object");
        }
        readCommon(chunk);
        JsonNode choice = firstChoice(chunk);
        if (choice == null) {
            return;
        }
        JsonNode delta = choice.get("delta");
        if (delta != null && delta.isObject()) {
            reasoning(delta);
            answer(delta.get("content"));
            answer(delta.get("refusal"));
            toolCallDeltas(delta.get("tool_calls"));
        }
        finish(choice);
    }

    /** One whole {@code chat.completion} (non-streaming mode). */
    void acceptCompletion(JsonNode completion) {
        if (!completion.isObject()) {
            throw badResponse("the completion is not a JSON object");
        }
        readCommon(completion);
        JsonNode choice = firstChoice(completion);
        if (choice == null) {
            throw badResponse("the completion has no choices");
        }
        JsonNode message = choice.get("message");
        if (message != null && message.isObject()) {
            reasoning(message);
            answer(message.get("content"));
            answer(message.get("refusal"));
            toolCallDeltas(message.get("tool_calls"));
        }
        finish(choice);
        if (finishReason == null) {
            finishReason = calls.isEmpty() ? "stop" : "tool_calls";
        }
    }

    /** The assembled response. */
    ModelResponse response() {
        List<ToolCall> toolCalls = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            PendingCall call = calls.get(i);
            if (call.name == null || call.name.isBlank()) {
                throw badResponse("a tool call came without a function name");
            }
            String id = call.id == null || call.id.isBlank() ? "call_" + i : call.id;
            toolCalls.add(new ToolCall(id, call.name, call.arguments.toString()));
        }
        return new ModelResponse(text.toString(), toolCalls, usage, finishReason, model);
    }

    private void readCommon(JsonNode node) {
        JsonNode m = node.get("model");
        if (m != null && m.isTextual() && !m.asText().isBlank()) {
            model = m.asText();
        }
        JsonNode u = node.get("usage");
        if (u != null && u.isObject()) {
            long in = Math.max(0, u.path("prompt_tokens").asLong(0));
            long out = Math.max(0, u.path("completion_tokens").asLong(0));
            usage = Usage.reported(in, out).withCachedInputTokens(Math.min(in, cachedTokens(u)));
        }
    }

    /**
     * The prompt tokens read from the cache: OpenAI's {@code prompt_tokens_details.cached_tokens}, else
     * DeepSeek's {@code prompt_cache_hit_tokens}; 0 when neither came.
     */
    private static long cachedTokens(JsonNode usage) {
        JsonNode details = usage.path("prompt_tokens_details").path("cached_tokens");
        long cached = details.canConvertToLong() ? details.asLong() : usage.path("prompt_cache_hit_tokens").asLong(0);
        return Math.max(0, cached);
    }

    private JsonNode firstChoice(JsonNode node) {
        JsonNode choices = node.get("choices");
        if (choices == null || choices.isNull()) {
            return null;
        }
        if (!choices.isArray()) {
            throw badResponse("choices is not an array");
        }
        for (JsonNode c : choices) {
            if (c.path("index").asInt(0) == 0) {
                return c;
            }
        }
        return null;
    }

    private void reasoning(JsonNode delta) {
        for (String field : REASONING_FIELDS) {
            JsonNode r = delta.get(field);
            if (r != null && r.isTextual()) {
                String s = r.asText();
                if (!s.isEmpty()) {
                    emitted = true;
                    listener.onThinking(s);
                }
                return;
            }
        }
    }

    private void answer(JsonNode content) {
        if (content == null || content.isNull()) {
            return;
        }
        String s;
        if (content.isTextual()) {
            s = content.asText();
        } else if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if ("text".equals(part.path("type").asText()) && part.path("text").isTextual()) {
                    sb.append(part.get("text").asText());
                }
            }
            s = sb.toString();
        } else {
            throw badResponse("content is neither text nor a list of parts");
        }
        if (!s.isEmpty()) {
            emitted = true;
            text.append(s);
            listener.onToken(s);
        }
    }

    private void toolCallDeltas(JsonNode toolCalls) {
        if (toolCalls == null || toolCalls.isNull()) {
            return;
        }
        if (!toolCalls.isArray()) {
            throw badResponse("tool_calls is not an array");
        }
        for (JsonNode d : toolCalls) {
            if (!d.isObject()) {
                throw badResponse("a tool call is not an object");
            }
            emitted = true;
            String id = textOrNull(d.get("id"));
            JsonNode function = d.path("function");
            String name = textOrNull(function.get("name"));
            JsonNode args = function.get("arguments");
            PendingCall call = callFor(d.get("index"), id);
            if (call.id == null && id != null) {
                call.id = id;
            }
            if (call.name == null && name != null) {
                call.name = name;
            }
            if (args != null && !args.isNull()) {
                // arguments is a JSON string per the reference; a few servers send the object itself
                call.arguments.append(args.isTextual() ? args.asText() : args.toString());
            }
        }
    }

    private PendingCall callFor(JsonNode indexNode, String id) {
        if (indexNode != null && indexNode.canConvertToInt()) {
            int index = indexNode.asInt();
            PendingCall existing = callsByIndex.get(index);
            if (existing != null && (id == null || existing.id == null || existing.id.equals(id))) {
                return existing;
            }
            PendingCall fresh = new PendingCall();
            calls.add(fresh);
            callsByIndex.put(index, fresh);
            return fresh;
        }
        // no index: a new id starts a call, a fragment without id continues the last one
        if (id != null || calls.isEmpty()) {
            PendingCall last = calls.isEmpty() ? null : calls.get(calls.size() - 1);
            if (last != null && id != null && id.equals(last.id)) {
                return last;
            }
            PendingCall fresh = new PendingCall();
            calls.add(fresh);
            return fresh;
        }
        return calls.get(calls.size() - 1);
    }

    private void finish(JsonNode choice) {
        String reason = textOrNull(choice.get("finish_reason"));
        if (reason != null && !reason.isBlank()) {
            finishReason = reason;
        }
    }

    private static String textOrNull(JsonNode node) {
        return node != null && node.isTextual() ? node.asText() : null;
    }

    static ModelException badResponse(String what) {
        return new ModelException("model_bad_response", "The model server sent a malformed response: " + what);
    }

    private static final class PendingCall {
        String id;
        String name;
        final StringBuilder arguments = new StringBuilder();
    }
}
