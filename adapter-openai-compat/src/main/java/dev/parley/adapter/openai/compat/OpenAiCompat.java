package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.parley.adapter.http.HttpGateway;
import dev.parley.adapter.http.ParleyHttp;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.in.AgentAdmin;
import dev.parley.chat.port.in.AgentInfo;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.ChatUseCases;
import io.javalin.config.JavalinConfig;
import io.javalin.http.HandlerType;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An OpenAI-compatible facade over the inbound port, beside the Parley API on the same Javalin
 * app: {@code /v1/models}, {@code /v1/conversations}, {@code /v1/responses} and
 * {@code /v1/chat/completions}, so that the official SDKs and the tools built on them talk to a
 * Parley agent (model = agent id, API key = a Parley token, conversation = thread, response = run).
 * Authentication, the rate limit, ownership, budgets and idempotency are the API's own (shared
 * through {@link HttpGateway}); only the wire shapes are OpenAI's.
 *
 * <pre>{@code
 * ParleyHttp.Config http = ParleyHttp.config(chat, authenticator).build();
 * Javalin.create(cfg -> {
 *     ParleyHttp.install(cfg, http);
 *     OpenAiCompat.install(cfg, http);
 * });
 * }</pre>
 */
public final class OpenAiCompat {
    /** Where the facade is mounted. */
    public static final String BASE = "/v1";
    /** What an agent id can be: anything else names no model, without a look in the store. */
    private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
    private static final List<HandlerType> ANY_METHOD = List.of(HandlerType.GET, HandlerType.POST, HandlerType.PUT,
            HandlerType.PATCH, HandlerType.DELETE);

    private final HttpGateway gateway;
    private final ChatUseCases chat;

    private OpenAiCompat(HttpGateway gateway) {
        this.gateway = gateway;
        this.chat = gateway.chat();
    }

    /** Registers the facade's routes under {@link #BASE} on an app that also runs {@code ParleyHttp} with {@code config}. */
    public static void install(JavalinConfig cfg, ParleyHttp.Config config) {
        Objects.requireNonNull(cfg, "cfg");
        OpenAiCompat compat = new OpenAiCompat(HttpGateway.install(cfg, Objects.requireNonNull(config, "config")));
        compat.routes(cfg);
    }

    private void routes(JavalinConfig cfg) {
        Responses responses = new Responses(gateway, this);
        Conversations conversations = new Conversations(gateway);
        ChatCompletions completions = new ChatCompletions(gateway, this);
        route(cfg, HandlerType.GET, BASE + "/models", Set.of(), this::listModels);
        route(cfg, HandlerType.GET, BASE + "/models/{model}", Set.of(), this::getModel);
        route(cfg, HandlerType.POST, BASE + "/responses", Set.of(), responses::create);
        route(cfg, HandlerType.GET, BASE + "/responses/{response_id}", Set.of("stream", "starting_after", "include"), responses::retrieve);
        route(cfg, HandlerType.DELETE, BASE + "/responses/{response_id}", Set.of(), responses::delete);
        route(cfg, HandlerType.POST, BASE + "/responses/{response_id}/cancel", Set.of(), responses::cancel);
        route(cfg, HandlerType.GET, BASE + "/responses/{response_id}/input_items", Set.of("limit", "order", "after", "include"),
                responses::inputItems);
        route(cfg, HandlerType.POST, BASE + "/conversations", Set.of(), conversations::create);
        route(cfg, HandlerType.GET, BASE + "/conversations/{conversation_id}", Set.of(), conversations::get);
        route(cfg, HandlerType.POST, BASE + "/conversations/{conversation_id}", Set.of(), conversations::update);
        route(cfg, HandlerType.DELETE, BASE + "/conversations/{conversation_id}", Set.of(), conversations::delete);
        route(cfg, HandlerType.GET, BASE + "/conversations/{conversation_id}/items", Set.of("limit", "order", "after", "include"),
                conversations::items);
        route(cfg, HandlerType.POST, BASE + "/chat/completions", Set.of(), completions::create);
        gateway.route(cfg, HandlerType.OPTIONS, BASE + "/<rest>", false,
                request -> gateway.preflight(request.ctx(), "GET, POST, DELETE, OPTIONS"), OpenAiError::write);
        for (HandlerType method : ANY_METHOD) {
            gateway.route(cfg, method, BASE + "/<rest>", false, request -> {
                throw OpenAiError.notFound("not_found", "Unknown request URL: " + method.name() + " " + request.ctx().path());
            }, OpenAiError::write);
        }
    }

    /** A guarded route (token, rate limit) whose unknown query parameters are refused and whose errors are OpenAI's. */
    private void route(JavalinConfig cfg, HandlerType method, String path, Set<String> query, HttpGateway.Endpoint endpoint) {
        gateway.route(cfg, method, path, true, request -> {
            try {
                for (String name : request.ctx().queryParamMap().keySet()) {
                    if (!query.contains(name)) {
                        throw OpenAiError.unsupported(name.length() > 100 ? name.substring(0, 100) : name, "not a parameter of this route");
                    }
                }
                endpoint.handle(request);
            } catch (OpenAiError e) {
                e.write(request.ctx());
            }
        }, OpenAiError::write);
    }

    // ---- models: the agents the caller sees ----

    private void listModels(HttpGateway.Request request) {
        ArrayNode data = Wire.array();
        if (chat instanceof AgentAdmin admin) {
            PageRequest page = new PageRequest(PageRequest.MAX_LIMIT, null);
            for (int pages = 0; pages < 100; pages++) {
                Page<StoredAgent> agents = admin.listAgents(request.caller(), AgentStatus.ACTIVE, page);
                agents.items().forEach(a -> data.add(Wire.model(a.id(), a.createdAt())));
                if (!agents.hasMore()) {
                    break;
                }
                page = new PageRequest(PageRequest.MAX_LIMIT, agents.nextCursor());
            }
        } else {
            for (AgentInfo agent : chat.agents()) {
                data.add(Wire.model(agent.id(), Instant.EPOCH));
            }
        }
        Http.json(request.ctx(), 200, Wire.list(data, false).without(List.of("first_id", "last_id", "has_more")));
    }

    private void getModel(HttpGateway.Request request) {
        String id = request.ctx().pathParam("model");
        try {
            Http.json(request.ctx(), 200, Wire.model(id, modelCreated(request.caller(), id)));
        } catch (NotFoundException e) {
            throw OpenAiError.notFound("model_not_found", "The model '" + Http.shown(id) + "' does not exist or you do not have access to it.");
        }
    }

    /** When the agent {@code id} the caller may use was created; NotFoundException when there is none. */
    Instant modelCreated(Caller caller, String id) {
        if (id == null || !MODEL_ID.matcher(id).matches()) {
            throw new NotFoundException("agent_not_found", "No such agent");
        }
        if (chat instanceof AgentAdmin admin) {
            StoredAgent agent = admin.getAgent(caller, id);
            if (agent.status() != AgentStatus.ACTIVE) {
                throw new NotFoundException("agent_not_found", "No such agent");
            }
            return agent.createdAt();
        }
        chat.agent(id);
        return Instant.EPOCH;
    }

    /** 400 naming {@code param} unless {@code model} names an agent the caller may use. */
    void requireModel(Caller caller, String model, String param) {
        try {
            modelCreated(caller, model);
        } catch (NotFoundException e) {
            throw new OpenAiError(400, "invalid_request_error", param, "model_not_found",
                    "The model '" + Http.shown(model) + "' does not exist or you do not have access to it.");
        }
    }
}
