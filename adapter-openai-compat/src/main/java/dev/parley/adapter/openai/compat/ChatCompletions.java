package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.FinishReason;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SeedMessage;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code POST /v1/chat/completions}, stateless as OpenAI's is: the client sends the whole history,
 * and the agent named by {@code model} answers its last user message with the agent's instructions
 * and server-side tools. Each completion is a run on a thread of its own (so it is in the usage
 * ledger, the budget and the rate limit like any other), which starts with the earlier user and
 * assistant messages the client sent, stored in the send transaction; the client's system and
 * developer messages are appended to the agent's instructions for that run. A completion cannot
 * carry an approval, so the agent's tools that require one are not offered to the model.
 */
final class ChatCompletions {
    private static final Set<String> KNOWN = Set.of("model", "messages", "stream", "stream_options", "n", "tools", "tool_choice",
            "store", "metadata", "temperature", "top_p", "max_tokens", "max_completion_tokens", "response_format", "stop",
            "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "user", "seed", "parallel_tool_calls",
            "reasoning_effort", "service_tier", "modalities", "audio", "prediction", "web_search_options", "functions",
            "function_call", "verbosity", "prompt_cache_key", "safety_identifier");
    private static final Set<String> REFUSED = Set.of("top_p", "response_format",
            "stop", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "seed",
            "parallel_tool_calls", "service_tier", "modalities", "audio", "prediction", "web_search_options",
            "functions", "function_call", "verbosity", "prompt_cache_key", "safety_identifier");

    private final HttpGateway gateway;
    private final ChatUseCases chat;
    private final OpenAiCompat models;

    ChatCompletions(HttpGateway gateway, OpenAiCompat models) {
        this.gateway = gateway;
        this.chat = gateway.chat();
        this.models = models;
    }

    void create(HttpGateway.Request request) throws InterruptedException {
        JsonNode body = gateway.readJson(request.ctx());
        Http.requireKnown(body, KNOWN);
        for (String name : REFUSED) {
            if (body.has(name) && !body.get(name).isNull()) {
                throw OpenAiError.unsupported(name, "the agent's own settings apply");
            }
        }
        JsonNode n = body.get("n");
        if (n != null && !n.isNull() && !(n.isInt() && n.asInt() == 1)) {
            throw OpenAiError.unsupported("n", "one choice per completion (n: 1)");
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
            throw OpenAiError.unsupported("tools", "the agent's tools live on the server; client-side tools are not offered");
        }
        JsonNode toolChoice = body.get("tool_choice");
        if (toolChoice != null && !toolChoice.isNull() && !"auto".equals(toolChoice.asText(null))) {
            throw OpenAiError.unsupported("tool_choice", "the agent decides which of its tools to call");
        }
        if (body.has("store") && !Http.bool(body, "store", true)) {
            throw OpenAiError.unsupported("store", "Parley records every completion as a run (store: false is not offered)");
        }
        String model = Http.string(body, "model", true);
        models.requireModel(request.caller(), model, "model");
        boolean stream = Http.bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!stream) {
                throw OpenAiError.invalid("stream_options", "stream_options is only allowed when stream is true.");
            }
            Http.requireKnown(options, Set.of("include_usage", "include_obfuscation"));
            includeUsage = Http.bool(options, "include_usage", false);
        }
        Map<String, String> metadata = Http.metadataWithUser(body);
        ModelSettings settings = RunSettings.ofChatCompletion(body);
        JsonNode messages = body.get("messages");
        Conversation conversation = conversation(messages);
        String user = request.userId();
        if (stream) {
            gateway.reserveStream(request); // past the user's stream limit, nothing is sent
        }
        SendMessageCommand command = new SendMessageCommand(user, null, model, conversation.last(), BusyPolicy.REJECT,
                HttpGateway.idempotencyKey(request.ctx()), metadata).withInstructions(instructions(messages))
                .withModelSettings(settings).withHistory(conversation.history()).withoutApprovalTools();
        if (stream) {
            SendReceipt receipt;
            try {
                receipt = chat.send(command);
            } catch (InvalidRequestException e) {
                throw conversation.named(e);
            }
            Run run = receipt.run();
            gateway.stream(request, gateway.follow(user, receipt, 0, DisconnectPolicy.CONTINUE, request.requestId()),
                    new ChatCompletionStream(request.ctx().res(), id(run.id()), Wire.seconds(run.createdAt()), model, includeUsage,
                            () -> chat.cancelRun(user, run.threadId(), run.id())));
            return;
        }
        // a sync completion: the run may execute on this request's thread while it is waited for
        RunOutcome outcome;
        try {
            outcome = chat.sendAndAwait(command, gateway.config().syncChatTimeout()).outcome();
        } catch (InvalidRequestException e) {
            throw conversation.named(e);
        }
        Run ended = outcome.run();
        if (ended.status() == RunStatus.REQUIRES_ACTION) {
            chat.cancelRun(user, ended.threadId(), ended.id());
            throw approvalNotOffered();
        }
        if (ended.status() == RunStatus.FAILED) {
            throw new OpenAiError(502, "server_error", null, "model_error", "The agent's run failed: " + ended.error().message());
        }
        Http.json(request.ctx(), 200, completion(ended, model, outcome.responseText(),
                outcome.finishReason() == FinishReason.LENGTH ? "length" : "stop"));
    }

    static OpenAiError approvalNotOffered() {
        return new OpenAiError(409, "invalid_request_error", null, "approval_required",
                "The agent asked for approval of a tool call, which Chat Completions cannot carry; use the Responses API.");
    }

    static String id(RunId run) {
        return "chatcmpl-" + run.value().substring(RunId.PREFIX.length() + 1);
    }

    private static ObjectNode completion(Run run, String model, String text, String finishReason) {
        ObjectNode o = Wire.object();
        o.put("id", id(run.id()));
        o.put("object", "chat.completion");
        o.put("created", Wire.seconds(run.createdAt()));
        o.put("model", model);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", text);
        message.putNull("refusal");
        message.putArray("annotations");
        choice.put("finish_reason", finishReason);
        choice.putNull("logprobs");
        o.set("usage", usage(run.usage()));
        o.putNull("system_fingerprint");
        return o;
    }

    static ObjectNode usage(Usage usage) {
        ObjectNode o = Wire.object();
        o.put("prompt_tokens", usage.inputTokens());
        o.put("completion_tokens", usage.outputTokens());
        o.put("total_tokens", usage.inputTokens() + usage.outputTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", usage.cachedInputTokens());
        return o;
    }

    /** The system and developer messages' text, appended to the agent's instructions for this run; null when none. */
    static String instructions(JsonNode messages) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            String role = messages.get(i).path("role").asText("");
            if (role.equals("system") || role.equals("developer")) {
                text.append(text.isEmpty() ? "" : "\n\n").append(Input.text(Input.content(messages.get(i).get("content"),
                        "messages[" + i + "].content")));
            }
        }
        return text.isEmpty() ? null : text.toString();
    }

    /**
     * The messages of a completion: {@code last}, the user message the run answers, and {@code history},
     * the user and assistant messages before it; {@code indexes} gives each history entry's index in
     * the client's {@code messages}.
     */
    record Conversation(List<ContentPart> last, List<SeedMessage> history, List<Integer> indexes) {
        /** {@code e} with the history entries it names renamed as the client's messages. */
        OpenAiError named(InvalidRequestException e) {
            if (e.errors().isEmpty()) {
                return OpenAiError.invalid(null, e.getMessage());
            }
            String field = e.errors().get(0).field();
            Matcher m = HISTORY_FIELD.matcher(field);
            String param = m.lookingAt() ? "messages[" + indexes.get(Integer.parseInt(m.group(1))) + "]" + field.substring(m.end())
                    : field.equals("history") ? "messages" : field;
            return OpenAiError.invalid(param, "Invalid '" + param + "': " + e.errors().get(0).message() + ".");
        }
    }

    private static final Pattern HISTORY_FIELD = Pattern.compile("history\\[(\\d+)]");

    /** The client's messages as a conversation: the last one must be the user's. */
    static Conversation conversation(JsonNode messages) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw OpenAiError.invalid("messages", "Invalid 'messages': expected a non-empty array.");
        }
        List<SeedMessage> history = new ArrayList<>();
        List<Integer> indexes = new ArrayList<>();
        List<ContentPart> last = null;
        for (int i = 0; i < messages.size(); i++) {
            JsonNode message = messages.get(i);
            String at = "messages[" + i + "]";
            if (!message.isObject()) {
                throw OpenAiError.invalid(at, "Invalid '" + at + "': expected an object.");
            }
            String role = message.path("role").asText("");
            if (!Set.of("system", "developer", "user", "assistant").contains(role)) {
                throw OpenAiError.unsupported(at + ".role", "messages of role '" + Http.shown(role)
                        + "' are not offered (the agent's tools run on the server)");
            }
            if (message.has("tool_calls") || message.has("function_call")) {
                throw OpenAiError.unsupported(at + ".tool_calls", "client-side tool calls are not offered");
            }
            List<ContentPart> parts = Input.content(message.get("content"), at + ".content");
            if (role.equals("system") || role.equals("developer")) {
                continue; // the run's instructions (see instructions)
            }
            if (i == messages.size() - 1) {
                if (!role.equals("user")) {
                    throw OpenAiError.invalid(at + ".role", "The last message must be the user's.");
                }
                last = parts;
            } else {
                history.add(new SeedMessage(role.equals("user") ? Role.USER : Role.ASSISTANT, parts));
                indexes.add(i);
            }
        }
        if (last == null) {
            throw OpenAiError.invalid("messages[" + (messages.size() - 1) + "].role", "The last message must be the user's.");
        }
        return new Conversation(last, history, indexes);
    }
}
