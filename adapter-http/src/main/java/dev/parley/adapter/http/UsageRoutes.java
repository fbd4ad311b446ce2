package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.UsageGroup;
import dev.parley.chat.model.UsageRow;
import dev.parley.chat.model.UsageTotals;
import dev.parley.chat.model.WireEnum;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.UsageQuery;
import dev.parley.chat.port.in.UsageReport;
import io.javalin.config.JavalinConfig;
import io.javalin.http.HandlerType;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Set;

/** The usage report ({@code GET /usage}) and the trash's restore route. */
final class UsageRoutes {
    private static final Set<String> USAGE_PARAMETERS = Set.of("from", "to", "group_by", "user_id");

    private final Api api;
    private final ParleyHttp.Config config;
    private final ChatUseCases chat;

    UsageRoutes(Api api, ParleyHttp.Config config) {
        this.api = api;
        this.config = config;
        this.chat = config.chat();
    }

    void install(JavalinConfig cfg) {
        api.route(cfg, HandlerType.GET, Api.BASE + "/usage", Api.Access.USER, USAGE_PARAMETERS, this::usage);
        api.route(cfg, HandlerType.POST, Api.BASE + "/threads/{thread_id}/restore", Api.Access.USER,
                call -> Api.json(call, 200, Wire.thread(chat.restoreThread(call.userId(), Api.threadId(call)))));
    }

    private void usage(Api.Call call) {
        var ctx = call.ctx();
        Instant from = instant(ctx.queryParam("from"), "from");
        Instant to = instant(ctx.queryParam("to"), "to");
        String rawGroup = ctx.queryParam("group_by");
        UsageGroup group = rawGroup == null ? UsageGroup.DAY : WireEnum.fromWire(UsageGroup.class, rawGroup)
                .orElseThrow(() -> ApiProblem.parameter("group_by", "must be one of: day, agent, model, thread, user"));
        String userId = ctx.queryParam("user_id");
        if (userId != null && (userId.isEmpty() || userId.length() > 256 || Requests.textProblem(userId) != null)) {
            throw ApiProblem.parameter("user_id", "is not a valid user id");
        }
        String token = Credentials.bearerToken(ctx.header("Authorization"));
        Caller caller = new Caller(call.userId(), token == null ? null : config.authenticator().roles(token));
        Api.json(call, 200, report(chat.usage(caller, new UsageQuery(userId, from, to, group))));
    }

    private static Instant instant(String raw, String name) {
        if (raw == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(raw).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiProblem.parameter(name, "must be an RFC 3339 time on a whole hour, such as 2026-12-01T00:00:00Z");
        }
    }

    static ObjectNode report(UsageReport report) {
        ObjectNode o = Json.object();
        o.put("object", "usage");
        o.put("from", Json.time(report.from()));
        o.put("to", Json.time(report.to()));
        o.put("group_by", report.groupBy().wireName());
        ArrayNode data = o.putArray("data");
        for (UsageRow row : report.rows()) {
            ObjectNode r = data.addObject();
            r.put("group", row.group());
            r.setAll(totals(row.totals()));
        }
        o.set("total", totals(report.total()));
        return o;
    }

    static ObjectNode totals(UsageTotals t) {
        ObjectNode o = Json.object();
        o.put("runs", t.runs());
        o.put("input_tokens", t.inputTokens());
        o.put("input_cached_tokens", t.cachedInputTokens());
        o.put("output_tokens", t.outputTokens());
        o.put("total_tokens", t.totalTokens());
        Wire.putCost(o, t.costUsd());
        return o;
    }
}
