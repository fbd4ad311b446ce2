package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVariable;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.model.WireEnum;
import dev.parley.chat.port.in.AgentAdmin;
import dev.parley.chat.port.in.AgentPatch;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.out.AgentLimits;
import io.javalin.config.JavalinConfig;
import io.javalin.http.HandlerType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The agent routes of API part 2 (stored, versioned, editable agents) and the tool registry. Reads
 * of agents work without a token (built-in and shared agents only); with one, the caller also sees
 * their own private agents. The {@code roles} the authenticator grants decide who may change shared
 * agents; the rules themselves live behind {@link AgentAdmin}.
 */
final class AgentRoutes {
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,8}");
    private static final Set<String> AGENT_LIST = Set.of("limit", "cursor", "status");

    private final Api api;
    private final ParleyHttp.Config config;
    private final AgentAdmin agents;
    private final Credentials credentials;
    private final Bodies bodies;

    AgentRoutes(Api api, ParleyHttp.Config config, AgentAdmin agents, Credentials credentials, Bodies bodies) {
        this.api = api;
        this.credentials = credentials;
        this.bodies = bodies;
        this.config = config;
        this.agents = agents;
    }

    void install(JavalinConfig cfg) {
        String base = Api.BASE;
        api.route(cfg, HandlerType.GET, base + "/agents", Api.Access.PUBLIC, AGENT_LIST,
                call -> Api.json(call, 200, Wire.page(agents.listAgents(caller(call), status(call), Bodies.page(call.ctx())), this::agent)));
        api.route(cfg, HandlerType.POST, base + "/agents", Api.Access.USER, this::create);
        api.route(cfg, HandlerType.GET, base + "/agents/{agent_id}", Api.Access.PUBLIC,
                call -> Api.json(call, 200, agent(agents.getAgent(caller(call), agentId(call)))));
        api.route(cfg, HandlerType.PATCH, base + "/agents/{agent_id}", Api.Access.USER, this::update);
        api.route(cfg, HandlerType.DELETE, base + "/agents/{agent_id}", Api.Access.USER, call -> {
            agents.archiveAgent(caller(call), agentId(call));
            call.ctx().status(204);
        });
        api.route(cfg, HandlerType.GET, base + "/agents/{agent_id}/versions", Api.Access.USER, Api.PAGE,
                call -> Api.json(call, 200, Wire.page(agents.listAgentVersions(caller(call), agentId(call), Bodies.page(call.ctx())), this::agent)));
        api.route(cfg, HandlerType.GET, base + "/agents/{agent_id}/versions/{version}", Api.Access.USER,
                call -> Api.json(call, 200, agent(agents.getAgentVersion(caller(call), agentId(call), version(call)))));
        api.route(cfg, HandlerType.GET, base + "/tools", Api.Access.USER, call -> {
            ObjectNode page = Json.object();
            page.put("object", "list");
            ArrayNode data = page.putArray("data");
            agents.tools().forEach(t -> data.add(tool(t)));
            page.put("has_more", false);
            page.putNull("next_cursor");
            Api.json(call, 200, page);
        });
    }

    // ---- handlers ----

    private void create(Api.Call call) {
        AgentDefinition definition = Body.definition(bodies.read(call.ctx()));
        Api.json(call, 201, agent(agents.createAgent(caller(call), definition)));
    }

    private void update(Api.Call call) {
        Caller caller = caller(call);
        String id = agentId(call);
        AgentPatch patch = Body.patch(bodies.read(call.ctx()));
        Api.json(call, 200, agent(agents.updateAgent(caller, id, patch)));
    }

    /**
     * The acting caller: on a user route the token's user and roles; on a public route the same
     * when a token is given (a bad one is still 401), else anonymous.
     */
    private Caller caller(Api.Call call) {
        if (call.caller() != null) {
            return call.caller();
        }
        String header = call.ctx().header("Authorization");
        if (header == null || header.isBlank()) {
            return Caller.anonymous();
        }
        Caller caller = credentials.authenticate(header);
        credentials.rateLimit(caller.userId());
        return caller;
    }

    private static String agentId(Api.Call call) {
        String id = call.ctx().pathParam("agent_id");
        if (!AGENT_ID.matcher(id).matches()) {
            throw ApiProblem.notFound("agent_not_found", "No such agent");
        }
        return id;
    }

    private static int version(Api.Call call) {
        String raw = call.ctx().pathParam("version");
        if (!VERSION.matcher(raw).matches()) {
            throw ApiProblem.notFound("agent_version_not_found", "No such version of the agent");
        }
        return Integer.parseInt(raw);
    }

    private static AgentStatus status(Api.Call call) {
        String raw = call.ctx().queryParam("status");
        if (raw == null) {
            return AgentStatus.ACTIVE;
        }
        return WireEnum.fromWire(AgentStatus.class, raw)
                .orElseThrow(() -> ApiProblem.parameter("status", "must be active or archived"));
    }

    // ---- wire ----

    ObjectNode agent(StoredAgent a) {
        AgentDefinition d = a.definition();
        ObjectNode o = Json.object();
        o.put("id", a.id());
        o.put("object", "agent");
        o.put("name", d.name());
        o.put("description", d.description());
        o.put("instructions", d.instructions());
        o.put("model", d.model());
        o.set("model_settings", Wire.modelSettings(d.modelSettings()));
        Map<String, ToolSpec> registry = agents.tools().stream()
                .collect(Collectors.toMap(ToolSpec::name, Function.identity(), (x, y) -> x));
        ArrayNode tools = o.putArray("tools");
        for (String name : d.tools()) {
            // a tool the registry no longer has (removed from code since this version was saved) keeps its name
            ToolSpec spec = registry.getOrDefault(name, new ToolSpec(name, "", null));
            tools.add(tool(spec).put("requires_approval", d.approvalTools().contains(name)));
        }
        o.put("approval_timeout_seconds", d.approvalTimeoutSeconds() != null ? d.approvalTimeoutSeconds()
                : AgentLimits.DEFAULT_APPROVAL_TIMEOUT.toSeconds());
        ArrayNode variables = o.putArray("variables");
        for (AgentVariable v : d.variables()) {
            variables.addObject()
                    .put("name", v.name())
                    .put("description", v.description())
                    .put("required", v.required())
                    .put("default", v.defaultValue());
        }
        o.put("visibility", a.isBuiltIn() ? AgentVisibility.SHARED.wireName() : d.visibility().wireName());
        o.put("builtin", a.isBuiltIn());
        o.put("version", a.version());
        o.put("status", a.status().wireName());
        o.put("created_at", Json.time(a.createdAt()));
        o.put("updated_at", Json.time(a.updatedAt()));
        ObjectNode metadata = o.putObject("metadata");
        d.metadata().forEach(metadata::put);
        return o;
    }

    private static ObjectNode tool(ToolSpec spec) {
        ObjectNode t = Json.object();
        t.put("name", spec.name());
        t.put("description", spec.description());
        t.set("parameters", Wire.jsonOrString(spec.parametersSchema()));
        return t;
    }

    /** Reads agent bodies: every member of the wrong JSON type is a field error, all reported together. */
    private static final class Body {
        private final JsonNode body;
        private final List<FieldError> errors = new ArrayList<>();
        /** The tools whose entries say {@code "requires_approval": true}, read with {@link #tools()}. */
        private final List<String> approvals = new ArrayList<>();

        private Body(JsonNode body) {
            this.body = body;
        }

        static AgentDefinition definition(JsonNode json) {
            Body b = new Body(json);
            String name = b.string("name");
            if (name == null && !json.has("name")) {
                b.errors.add(new FieldError("name", "is required"));
            }
            String description = b.string("description");
            String instructions = b.string("instructions");
            String model = b.string("model");
            ModelSettings settings = b.settings();
            List<String> tools = b.tools();
            List<AgentVariable> variables = b.variables();
            AgentVisibility visibility = b.enumValue("visibility", AgentVisibility.class);
            Map<String, String> metadata = b.metadata();
            Optional<Integer> timeout = b.approvalTimeout();
            b.done();
            return new AgentDefinition(name, description, instructions, model, settings, tools, variables, visibility, metadata,
                    b.approvals, timeout == null ? null : timeout.orElse(null));
        }

        static AgentPatch patch(JsonNode json) {
            Body b = new Body(json);
            String name = b.string("name");
            String description = b.string("description");
            String instructions = b.string("instructions");
            Optional<String> model = json.has("model") ? Optional.ofNullable(b.string("model")) : null;
            ModelSettings settings = b.settings();
            List<String> tools = b.tools();
            List<AgentVariable> variables = b.variables();
            AgentVisibility visibility = b.enumValue("visibility", AgentVisibility.class);
            Map<String, String> metadata = b.metadata();
            AgentStatus status = b.enumValue("status", AgentStatus.class);
            Optional<Integer> timeout = b.approvalTimeout();
            b.done();
            return new AgentPatch(name, description, instructions, model, settings, tools, variables, visibility, metadata, status,
                    b.approvals, timeout);
        }

        private void done() {
            if (!errors.isEmpty()) {
                throw ApiProblem.validation(errors);
            }
        }

        private JsonNode member(JsonNode from, String name) {
            JsonNode node = from.get(name);
            return node == null || node.isNull() ? null : node;
        }

        private String string(String name) {
            return text(name, member(body, name));
        }

        private String text(String field, JsonNode node) {
            if (node == null) {
                return null;
            }
            if (!node.isTextual()) {
                errors.add(new FieldError(field, "must be a string"));
                return null;
            }
            String problem = Requests.textProblem(node.textValue());
            if (problem != null) {
                errors.add(new FieldError(field, problem));
                return null;
            }
            return node.textValue();
        }

        private <E extends Enum<E> & WireEnum> E enumValue(String field, JsonNode node, Class<E> type) {
            if (node == null) {
                return null;
            }
            Optional<E> value = node.isTextual() ? WireEnum.fromWire(type, node.textValue()) : Optional.empty();
            if (value.isEmpty()) {
                errors.add(new FieldError(field, "must be one of: "
                        + Arrays.stream(type.getEnumConstants()).map(WireEnum::wireName).collect(Collectors.joining(", "))));
                return null;
            }
            return value.get();
        }

        private <E extends Enum<E> & WireEnum> E enumValue(String name, Class<E> type) {
            return enumValue(name, member(body, name), type);
        }

        private ModelSettings settings() {
            return Requests.modelSettings(body, errors);
        }

        /** {@code [{"name"}, ...]}; a plain name is accepted for each entry as well. */
        private List<String> tools() {
            JsonNode node = member(body, "tools");
            if (node == null) {
                return null;
            }
            if (!node.isArray()) {
                errors.add(new FieldError("tools", "must be a list of {\"name\"} objects"));
                return null;
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                JsonNode entry = node.get(i);
                String field = "tools[" + i + "].name";
                String name = entry.isObject() ? text(field, member(entry, "name")) : text(field, entry);
                if (name == null) {
                    if (entry.isObject() && member(entry, "name") == null) {
                        errors.add(new FieldError(field, "is required"));
                    }
                    continue;
                }
                names.add(name);
                JsonNode approval = entry.isObject() ? member(entry, "requires_approval") : null;
                if (approval != null && !approval.isBoolean()) {
                    errors.add(new FieldError("tools[" + i + "].requires_approval", "must be true or false"));
                } else if (approval != null && approval.booleanValue()) {
                    approvals.add(name);
                }
            }
            return names;
        }

        /** {@code approval_timeout_seconds}: null when absent, empty when null (the default). */
        private Optional<Integer> approvalTimeout() {
            if (!body.has("approval_timeout_seconds")) {
                return null;
            }
            JsonNode node = body.get("approval_timeout_seconds");
            if (node.isNull()) {
                return Optional.empty();
            }
            if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                errors.add(new FieldError("approval_timeout_seconds", "must be a whole number of seconds"));
                return null;
            }
            return Optional.of(node.intValue());
        }

        private List<AgentVariable> variables() {
            JsonNode node = member(body, "variables");
            if (node == null) {
                return null;
            }
            if (!node.isArray()) {
                errors.add(new FieldError("variables", "must be a list of objects"));
                return null;
            }
            List<AgentVariable> result = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                JsonNode entry = node.get(i);
                String path = "variables[" + i + "]";
                if (!entry.isObject()) {
                    errors.add(new FieldError(path, "must be an object"));
                    continue;
                }
                String name = text(path + ".name", member(entry, "name"));
                if (name == null && member(entry, "name") == null) {
                    errors.add(new FieldError(path + ".name", "is required"));
                }
                String description = text(path + ".description", member(entry, "description"));
                boolean required = false;
                JsonNode r = member(entry, "required");
                if (r != null) {
                    if (r.isBoolean()) {
                        required = r.booleanValue();
                    } else {
                        errors.add(new FieldError(path + ".required", "must be true or false"));
                    }
                }
                String defaultValue = text(path + ".default", member(entry, "default"));
                if (name != null) {
                    result.add(new AgentVariable(name, description, required, defaultValue));
                }
            }
            return result;
        }

        private Map<String, String> metadata() {
            JsonNode node = member(body, "metadata");
            if (node == null) {
                return null;
            }
            if (!node.isObject()) {
                errors.add(new FieldError("metadata", "must be an object of string values"));
                return null;
            }
            Map<String, String> result = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String value = text("metadata." + field.getKey(), field.getValue());
                if (value != null && Requests.textProblem(field.getKey()) == null) {
                    result.put(field.getKey(), value);
                } else if (value != null) {
                    errors.add(new FieldError("metadata", "keys must be valid text"));
                }
            }
            return result;
        }
    }
}
