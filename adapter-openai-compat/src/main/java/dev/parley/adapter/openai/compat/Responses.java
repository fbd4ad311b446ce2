package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.ChatFlow;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.EventsExpiredException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.EditMessageCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /v1/responses}: a response is a run. Create sends the input as the user message of a new
 * run (on a new thread, the {@code conversation}'s, or continuing {@code previous_response_id}), and
 * answers when it ends, at once ({@code background}), or as OpenAI's event stream. Retrieve, cancel
 * and the input items read the run; {@code stream=true} with {@code starting_after} resumes its stream.
 */
final class Responses {
    private static final Set<String> CREATE = Set.of("model", "input", "conversation", "previous_response_id", "stream",
            "background", "metadata", "store", "tools", "tool_choice", "instructions", "temperature", "max_output_tokens",
            "reasoning", "top_p", "parallel_tool_calls", "text", "truncation", "include", "user", "service_tier",
            "stream_options", "prompt", "prompt_cache_key", "safety_identifier", "max_tool_calls", "top_logprobs");

    private final HttpGateway gateway;
    private final ChatUseCases chat;
    private final OpenAiCompat models;

    Responses(HttpGateway gateway, OpenAiCompat models) {
        this.gateway = gateway;
        this.chat = gateway.chat();
        this.models = models;
    }

    /** What a create asks for, checked. */
    private record Create(String model, List<ContentPart> content, String instructions, List<Input.ApprovalAnswer> approvals,
                          ThreadId conversation, Wire.Ref previous, boolean stream, boolean background, Map<String, String> metadata,
                          ModelSettings settings) {}

    void create(HttpGateway.Request request) throws InterruptedException {
        Create req = parse(request, gateway.readJson(request.ctx()));
        String key = HttpGateway.idempotencyKey(request.ctx());
        String user = request.userId();
        if (req.stream()) {
            gateway.reserveStream(request); // past the user's stream limit, nothing is sent
        }
        SendReceipt receipt;
        if (!req.approvals().isEmpty()) {
            answerApproval(request, req);
            return;
        } else if (req.previous() != null) {
            receipt = continueFrom(user, req, key);
        } else {
            SendMessageCommand command = new SendMessageCommand(user, req.conversation(), req.model(), req.content(), BusyPolicy.REJECT,
                    key, req.metadata()).withInstructions(req.instructions()).withModelSettings(req.settings());
            if (!req.stream() && !req.background()) {
                // a sync response: the run may execute on this request's thread while it is waited for
                receipt = chat.sendAndAwait(command, gateway.config().syncChatTimeout()).receipt();
                Wire.Ref ref = new Wire.Ref(receipt.run().id(), 0);
                Http.json(request.ctx(), 200, read(user, ref, req.metadata(), false));
                return;
            }
            receipt = chat.send(command);
        }
        Wire.Ref ref = new Wire.Ref(receipt.run().id(), 0);
        answer(request, ref, receipt.run(), receipt, req, RunSettings.Echo.of(ref, receipt.instructions()));
    }

    /** Answers a create: the response's stream, the response at once ({@code background}), or once it ended. */
    private void answer(HttpGateway.Request request, Wire.Ref ref, Run started, SendReceipt receipt, Create req, RunSettings.Echo echo)
            throws InterruptedException {
        String user = request.userId();
        ResponseEvents.Factory translation = emitter -> new ResponseEvents(ref, started, req.metadata(), req.background(), echo, emitter);
        if (req.stream()) {
            ChatFlow.Follow events = receipt != null
                    ? gateway.follow(user, receipt, 0, DisconnectPolicy.CONTINUE, request.requestId())
                    : gateway.follow(request, started.threadId(), started.id(), 0, DisconnectPolicy.CONTINUE);
            gateway.stream(request, events, new ResponseStream(request.ctx().res(), translation, -1));
            return;
        }
        if (!req.background()) {
            chat.await(user, started.id(), gateway.config().syncChatTimeout());
        }
        Http.json(request.ctx(), 200, read(user, ref, req.metadata(), req.background()));
    }

    /**
     * The response as the run's event log makes it (the same items and ids its stream had), or as the
     * store has the run when its log is gone.
     */
    private ObjectNode read(String user, Wire.Ref ref, Map<String, String> metadata, boolean background) {
        RunOutcome outcome = find(user, ref, null);
        Run run = outcome.run();
        ResponseEvents translation = new ResponseEvents(ref, run, metadata, background, RunSettings.Echo.of(ref, outcome.instructions()),
                (n, type, event) -> { });
        try (RunStream events = chat.subscribe(user, run.threadId(), run.id(), 0, DisconnectPolicy.CONTINUE)) {
            for (Optional<RunEvent> next = events.next(Duration.ZERO); next.isPresent() && !translation.ended();
                 next = events.next(Duration.ZERO)) {
                translation.accept(next.get());
            }
        } catch (EventsExpiredException e) {
            return ref.segment() == 0 ? Wire.response(outcome, metadata) : throwNoSuch(ref);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable();
        }
        if (!translation.reached()) {
            throw noSuchResponse(ref.id());
        }
        translation.settle();
        translation.endPause();
        String going = run.status() == RunStatus.QUEUED ? "queued" : "in_progress";
        return translation.response(going);
    }

    /**
     * {@code previous_response_id}: the next turn after that response's answer. When the answer is
     * the conversation's last message it is a plain send; when the conversation went on after it, the
     * new message becomes a new version of the question that followed it (a branch from that answer).
     */
    private SendReceipt continueFrom(String user, Create req, String key) {
        RunOutcome previous = find(user, req.previous(), "previous_response_id");
        Run run = previous.run();
        if (previous.assistantMessage() == null) {
            throw OpenAiError.invalid("previous_response_id", "Previous response has no answer to continue from.");
        }
        Message answer = previous.assistantMessage();
        chat.activateMessage(user, run.threadId(), answer.id());
        Optional<Message> next = after(user, run.threadId(), answer);
        if (next.isEmpty()) {
            return chat.send(new SendMessageCommand(user, run.threadId(), req.model(), req.content(), BusyPolicy.REJECT, key, req.metadata())
                    .withInstructions(req.instructions()).withModelSettings(req.settings()).continuing(req.previous().id()));
        }
        if (req.instructions() != null) {
            throw OpenAiError.unsupported("instructions", "not offered when continuing from a response the conversation went on after"
                    + " (a new branch runs with the agent's own instructions)");
        }
        if (!req.model().equals(run.agentId())) {
            throw OpenAiError.invalid("model", "A new branch from an earlier response is answered by that response's model, '"
                    + Http.shown(run.agentId()) + "'.");
        }
        return chat.edit(new EditMessageCommand(user, run.threadId(), next.get().id(), req.content(), BusyPolicy.REJECT, key,
                req.metadata(), Map.of()).withModelSettings(req.settings()).continuing(req.previous().id()));
    }

    /** The message after {@code answer} on the thread's active path, if any. */
    private Optional<Message> after(String user, ThreadId thread, Message answer) {
        var page = chat.listMessages(user, thread, new dev.parley.chat.model.PageRequest(100, null), SortOrder.DESC);
        for (int pages = 0; pages < 1000; pages++) {
            Message later = null;
            for (Message m : page.items()) {
                if (m.id().equals(answer.id())) {
                    return Optional.ofNullable(later);
                }
                later = m;
            }
            if (!page.hasMore()) {
                return Optional.empty();
            }
            Message last = page.items().get(page.items().size() - 1);
            page = chat.listMessages(user, thread, new dev.parley.chat.model.PageRequest(100, page.nextCursor()), SortOrder.DESC);
            if (!page.items().isEmpty() && page.items().get(0).id().equals(answer.id())) {
                return Optional.of(last);
            }
        }
        return Optional.empty();
    }

    /** An {@code mcp_approval_response} item: decides the tool call of the run that asked and follows the run on. */
    private void answerApproval(HttpGateway.Request request, Create req) throws InterruptedException {
        if (req.previous() == null) {
            throw OpenAiError.invalid("previous_response_id",
                    "An mcp_approval_response item answers the response that asked: give its id as previous_response_id.");
        }
        String user = request.userId();
        RunOutcome asking = find(user, req.previous(), "previous_response_id");
        Run run = asking.run();
        if (!req.model().equals(run.agentId())) {
            throw OpenAiError.invalid("model", "An approval is answered to the model that asked, '" + Http.shown(run.agentId()) + "'.");
        }
        if (req.instructions() != null) {
            throw OpenAiError.unsupported("instructions", "an approval answer continues the run with the instructions it began with");
        }
        if (!req.settings().isDefault()) {
            throw OpenAiError.unsupported(settingParam(req.settings()), "an approval answer continues the run with the model settings it"
                    + " began with");
        }
        for (Input.ApprovalAnswer answer : req.approvals()) {
            try {
                chat.decide(new ApprovalCommand(user, run.threadId(), run.id(), answer.requestId(),
                        answer.approve() ? ApprovalDecision.APPROVE : ApprovalDecision.DENY, answer.reason()));
            } catch (NotFoundException e) {
                throw OpenAiError.invalid("input", "No pending approval request with id '" + Http.shown(answer.requestId()) + "'.");
            }
        }
        Wire.Ref next = req.previous().next();
        answer(request, next, run, null, req, RunSettings.Echo.of(next, asking.instructions()));
    }

    /** The request parameter of the first setting {@code settings} gives. */
    private static String settingParam(ModelSettings settings) {
        return settings.temperature() != null ? "temperature" : settings.maxOutputTokens() != null ? "max_output_tokens" : "reasoning";
    }

    void retrieve(HttpGateway.Request request) {
        Http.refuseInclude(request.ctx());
        String user = request.userId();
        Wire.Ref ref = responseId(request);
        String stream = request.ctx().queryParam("stream");
        String after = request.ctx().queryParam("starting_after");
        if (stream != null && !stream.equals("true") && !stream.equals("false")) {
            throw OpenAiError.invalid("stream", "Invalid 'stream': expected true or false.");
        }
        if (!"true".equals(stream)) {
            if (after != null) {
                throw OpenAiError.invalid("starting_after", "starting_after is a parameter of a streamed retrieve (stream=true).");
            }
            Run run = find(user, ref, null).run();
            Http.json(request.ctx(), 200, read(user, ref, metadata(user, run), false));
            return;
        }
        long startingAfter = -1;
        if (after != null) {
            if (!after.matches("[0-9]{1,18}")) {
                throw OpenAiError.invalid("starting_after", "Invalid 'starting_after': expected a sequence number.");
            }
            startingAfter = Long.parseLong(after);
        }
        RunOutcome found = find(user, ref, null);
        Run run = found.run();
        Map<String, String> metadata = metadata(user, run);
        RunSettings.Echo echo = RunSettings.Echo.of(ref, found.instructions());
        gateway.stream(request, gateway.follow(request, run.threadId(), run.id(), 0, DisconnectPolicy.CONTINUE),
                new ResponseStream(request.ctx().res(), emitter -> new ResponseEvents(ref, run, metadata, false, echo, emitter),
                        startingAfter));
    }

    void cancel(HttpGateway.Request request) {
        String user = request.userId();
        Wire.Ref ref = responseId(request);
        Run run = find(user, ref, null).run();
        chat.cancelRun(user, run.threadId(), run.id());
        Http.json(request.ctx(), 200, read(user, ref, metadata(user, run), false));
    }

    void delete(HttpGateway.Request request) {
        find(request.userId(), responseId(request), null);
        throw new OpenAiError(400, "invalid_request_error", "response_id", "unsupported_operation",
                "Parley keeps every response of a conversation; delete the conversation to delete its responses.");
    }

    void inputItems(HttpGateway.Request request) {
        Http.refuseInclude(request.ctx());
        Http.limit(request.ctx(), 20);
        Http.ascending(request.ctx(), false);
        String user = request.userId();
        Run run = find(user, responseId(request), null).run();
        Message question = chat.getMessage(user, run.threadId(), run.userMessageId());
        ArrayNode data = Wire.array();
        String after = request.ctx().queryParam("after");
        if (after == null || !after.equals(question.id().value())) {
            Wire.item(question).ifPresent(data::add);
        }
        Http.json(request.ctx(), 200, Wire.list(data, false));
    }

    // ---- reading ----

    private static Wire.Ref responseId(HttpGateway.Request request) {
        String id = request.ctx().pathParam("response_id");
        return Wire.ref(id).orElseThrow(() -> noSuchResponse(id));
    }

    private static OpenAiError noSuchResponse(String id) {
        return OpenAiError.notFound("response_not_found", "Response with id '" + Http.shown(id) + "' not found.");
    }

    private static ObjectNode throwNoSuch(Wire.Ref ref) {
        throw noSuchResponse(ref.id());
    }

    private static OpenAiError unavailable() {
        return new OpenAiError(503, "server_error", null, "unavailable", "The server is shutting down; retry later.");
    }

    /** The run (owned by {@code user}) as it is now; 404, or 400 naming {@code param}, when there is none. */
    private RunOutcome find(String user, Wire.Ref ref, String param) {
        try {
            return chat.await(user, ref.run(), Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable();
        } catch (NotFoundException e) {
            if (param != null) {
                throw new OpenAiError(400, "invalid_request_error", param, "response_not_found",
                        "Previous response with id '" + ref.id() + "' not found.");
            }
            throw noSuchResponse(ref.id());
        }
    }

    /** The metadata the create gave, kept on the run's user message. */
    private Map<String, String> metadata(String user, Run run) {
        return chat.getMessage(user, run.threadId(), run.userMessageId()).metadata();
    }

    // ---- the request ----

    private Create parse(HttpGateway.Request request, JsonNode body) {
        Http.requireKnown(body, CREATE);
        refuse(body, "top_p", "truncation",
                "service_tier", "stream_options", "prompt", "prompt_cache_key", "safety_identifier", "max_tool_calls", "top_logprobs",
                "parallel_tool_calls");
        if (body.has("store") && !body.get("store").isNull() && !Http.bool(body, "store", true)) {
            throw OpenAiError.unsupported("store", "Parley stores every response (store: false is not offered)");
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull() && !(tools.isArray() && tools.isEmpty())) {
            throw OpenAiError.unsupported("tools", "the agent's tools live on the server; client-side tools are not offered");
        }
        JsonNode toolChoice = body.get("tool_choice");
        if (toolChoice != null && !toolChoice.isNull() && !"auto".equals(toolChoice.asText(null))) {
            throw OpenAiError.unsupported("tool_choice", "the agent decides which of its tools to call");
        }
        JsonNode text = body.get("text");
        if (text != null && !text.isNull()) {
            JsonNode format = text.path("format");
            if (text.size() != 1 || !format.isObject() || !"text".equals(format.path("type").asText()) || format.size() != 1) {
                throw OpenAiError.unsupported("text", "only plain text output ({\"format\": {\"type\": \"text\"}}) is offered");
            }
        }
        JsonNode include = body.get("include");
        if (include != null && !include.isNull() && !(include.isArray() && include.isEmpty())) {
            throw OpenAiError.unsupported("include", "Parley has no extra output data to include");
        }
        String model = Http.string(body, "model", true);
        models.requireModel(request.caller(), model, "model");
        ThreadId conversation = conversation(body.get("conversation"));
        String previousId = Http.string(body, "previous_response_id", false);
        if (conversation != null && previousId != null) {
            throw OpenAiError.invalid("previous_response_id", "Give either 'conversation' or 'previous_response_id', not both.");
        }
        Wire.Ref previous = previousId == null ? null : Wire.ref(previousId).orElseThrow(() -> new OpenAiError(400,
                "invalid_request_error", "previous_response_id", "response_not_found",
                "Previous response with id '" + Http.shown(previousId) + "' not found."));
        boolean stream = Http.bool(body, "stream", false);
        boolean background = Http.bool(body, "background", false);
        Map<String, String> metadata = Http.metadataWithUser(body);
        Input input = Input.parse(body.get("input"));
        String instructions = join(Http.string(body, "instructions", false), input.instructions());
        return new Create(model, input.content(), instructions, input.approvals(), conversation, previous, stream, background, metadata,
                RunSettings.ofResponse(body));
    }

    private static String join(String first, String second) {
        return first == null ? second : second == null ? first : first + "\n\n" + second;
    }

    private static void refuse(JsonNode body, String... names) {
        for (String name : names) {
            JsonNode node = body.get(name);
            if (node != null && !node.isNull()) {
                throw OpenAiError.unsupported(name, "the agent's own settings apply");
            }
        }
    }

    private static ThreadId conversation(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String id = node.isTextual() ? node.asText() : node.isObject() && node.path("id").isTextual() ? node.get("id").asText() : null;
        if (id == null) {
            throw OpenAiError.invalid("conversation", "Invalid 'conversation': expected an id or {\"id\": ...}.");
        }
        return ThreadId.parse(id).orElseThrow(() -> OpenAiError.notFound("conversation_not_found",
                "Conversation with id '" + Http.shown(id) + "' not found."));
    }
}
