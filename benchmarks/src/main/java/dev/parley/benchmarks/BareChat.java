package dev.parley.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.adapter.http.Authenticator;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The limit Parley's non-streaming chat route is measured against: a bare Javalin handler that
 * authenticates the same way, parses the same body and writes the same rows of a turn into Parley's
 * tables with plain JDBC, in the fewest transactions that keep the user message safe before the model
 * is called: (1) lock the thread, append the user message, insert the run; (2) read the history
 * window; (3) append the assistant message, insert the step, the events ({@code run_started}, the
 * tokens, {@code done}, as one row of the event log) and complete the run. Messages go on the
 * thread's active branch as the store's append puts them (the parent is the old leaf, the leaf moves).
 * No event bus, no run engine, no validation beyond the body's shape, and no thread usage totals or
 * usage ledger (Parley's turn keeps both; "Usage ledger" in BENCHMARKS.md measures what they cost).
 */
final class BareChat {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int HISTORY = 50 + 32;
    private static final int TOKENS = 3;

    private final DataSource ds;
    private final boolean postgres;
    private final Authenticator authenticator;
    private final String nextPosition;
    private final String jsonParam;

    BareChat(DataSource ds, boolean postgres, Authenticator authenticator) {
        this.ds = ds;
        this.postgres = postgres;
        this.authenticator = authenticator;
        // the thread's active leaf moves to the new message; the old leaf is its parent (PostgreSQL: UPDATE ... RETURNING
        // the row as it was, through a locked subquery; H2: OLD TABLE), as the store's append does
        this.nextPosition = postgres
                ? "UPDATE parley_threads t SET message_count = t.message_count + 1, updated_at = ?, active_leaf_id = ? FROM"
                        + " (SELECT id, active_leaf_id FROM parley_threads WHERE id = ? FOR UPDATE) o WHERE t.id = o.id"
                        + " RETURNING o.active_leaf_id"
                : "SELECT active_leaf_id FROM OLD TABLE (UPDATE parley_threads SET message_count = message_count + 1,"
                        + " updated_at = ?, active_leaf_id = ? WHERE id = ?)";
        this.jsonParam = postgres ? "CAST(? AS jsonb)" : "?";
    }

    void install(JavalinConfig cfg) {
        cfg.routes.post("/bare/threads/{thread_id}/chat", this::chat);
    }

    private void chat(Context ctx) throws Exception {
        Optional<String> user = Tokens.user(authenticator, ctx.header("Authorization"));
        if (user.isEmpty()) {
            ctx.status(401).result("{\"code\":\"unauthorized\"}");
            return;
        }
        JsonNode body = JSON.readTree(ctx.bodyAsBytes());
        JsonNode message = body == null ? null : body.get("message");
        if (message == null || !message.isTextual() || message.asText().isEmpty()) {
            ctx.status(422).result("{\"code\":\"validation_failed\"}");
            return;
        }
        String threadId = ctx.pathParam("thread_id");
        String runId = id("run_");
        String userMessageId = id("msg_");
        String assistantMessageId = id("msg_");
        String stepId = id("step_");
        OffsetDateTime started = now();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!ownedAndLocked(c, threadId, user.get())) {
                    c.rollback();
                    ctx.status(404).result("{\"code\":\"thread_not_found\"}");
                    return;
                }
                appendMessage(c, userMessageId, threadId, null, "user", textContent(message.asText()), started);
                // in progress under a lease of its own, as Parley's runs are: a Parley server sharing the database
                // reaps an in-progress run without a live lease (it would end this one between its two commits)
                try (PreparedStatement s = c.prepareStatement("INSERT INTO parley_runs (id, thread_id, agent_id, model,"
                        + " user_message_id, status, input_tokens, output_tokens, usage_estimated, created_at, started_at,"
                        + " owner_id, lease_expires_at) VALUES (?, ?, 'assistant', 'bench', ?, 'in_progress', 0, 0, false, ?, ?,"
                        + " 'bare-chat', ?)")) {
                    s.setString(1, runId);
                    s.setString(2, threadId);
                    s.setString(3, userMessageId);
                    s.setObject(4, started);
                    s.setObject(5, started);
                    s.setObject(6, started.plusMinutes(5));
                    s.executeUpdate();
                }
                c.commit();

                int history = 0;
                // the window: the newest messages of the leaf's branch (a bare chat never branches)
                try (PreparedStatement s = c.prepareStatement("SELECT id, role, content FROM parley_messages WHERE branch_id ="
                        + " (SELECT branch_id FROM parley_messages WHERE id = ?) ORDER BY branch_id DESC, position DESC LIMIT " + HISTORY)) {
                    s.setString(1, userMessageId);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            rs.getString(3);
                            history++;
                        }
                    }
                }
                c.commit();

                String reply = BenchModel.TOKEN.repeat(TOKENS);
                OffsetDateTime done = now();
                appendMessage(c, assistantMessageId, threadId, runId, "assistant", textContent(reply), done);
                try (PreparedStatement s = c.prepareStatement("INSERT INTO parley_steps (id, run_id, position, type, status,"
                        + " input_tokens, output_tokens, usage_estimated, started_at, completed_at)"
                        + " VALUES (?, ?, 1, 'message_creation', 'completed', 10, 3, false, ?, ?)")) {
                    s.setString(1, stepId);
                    s.setString(2, runId);
                    s.setObject(3, started);
                    s.setObject(4, done);
                    s.executeUpdate();
                }
                // the run's events, as one row of the event log (Parley writes a row per flushed batch)
                try (PreparedStatement s = c.prepareStatement("INSERT INTO parley_run_event_chunks (run_id, first_seq, last_seq,"
                        + " terminal, packed, events) VALUES (?, 1, ?, true, false, ?)")) {
                    StringBuilder events = new StringBuilder("[");
                    int seq = 0;
                    event(events, ++seq, "run_started", "{\"thread_id\":\"" + threadId + "\",\"message_id\":\""
                            + userMessageId + "\",\"agent_id\":\"assistant\",\"history\":" + history + "}");
                    for (int i = 0; i < TOKENS; i++) {
                        event(events, ++seq, "token", "{\"content\":\"" + BenchModel.TOKEN + "\"}");
                    }
                    event(events, ++seq, "done", "{\"thread_id\":\"" + threadId + "\",\"message_id\":\""
                            + assistantMessageId + "\",\"usage\":{\"input_tokens\":10,\"output_tokens\":3}}");
                    s.setString(1, runId);
                    s.setLong(2, seq);
                    s.setBytes(3, events.append(']').toString().getBytes(StandardCharsets.UTF_8));
                    s.executeUpdate();
                }
                try (PreparedStatement s = c.prepareStatement("UPDATE parley_runs SET status = 'completed',"
                        + " assistant_message_id = ?, input_tokens = 10, output_tokens = 3, completed_at = ?"
                        + " WHERE id = ? AND status = 'in_progress'")) {
                    s.setString(1, assistantMessageId);
                    s.setObject(2, done);
                    s.setString(3, runId);
                    s.executeUpdate();
                }
                c.commit();
                ObjectNode reply200 = JSON.createObjectNode();
                reply200.put("thread_id", threadId);
                reply200.put("run_id", runId);
                reply200.put("message_id", assistantMessageId);
                reply200.put("user_message_id", userMessageId);
                reply200.put("status", "completed");
                reply200.put("response", reply);
                ctx.status(200).contentType("application/json").result(JSON.writeValueAsBytes(reply200));
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private boolean ownedAndLocked(Connection c, String threadId, String user) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT owner_id FROM parley_threads WHERE id = ? AND deleted_at IS NULL FOR UPDATE")) {
            s.setString(1, threadId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getString(1).equals(user);
            }
        }
    }

    private void appendMessage(Connection c, String id, String threadId, String runId, String role, String content,
                               OffsetDateTime at) throws SQLException {
        String parent;
        try (PreparedStatement s = c.prepareStatement(nextPosition)) {
            s.setObject(1, at);
            s.setString(2, id);
            s.setString(3, threadId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                parent = rs.getString(1);
            }
        }
        // below the old leaf on its branch; the thread's first message starts the first branch
        String branch = id;
        long position = 1;
        if (parent != null) {
            try (PreparedStatement s = c.prepareStatement("SELECT branch_id, position FROM parley_messages WHERE id = ?")) {
                s.setString(1, parent);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    branch = rs.getString(1);
                    position = rs.getLong(2) + 1;
                }
            }
        } else {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO parley_branches (id, thread_id, parent_id, start_position,"
                    + " chain) VALUES (?, ?, NULL, 1, ?)")) {
                s.setString(1, id);
                s.setString(2, threadId);
                s.setString(3, id + "@1");
                s.executeUpdate();
            }
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO parley_messages (id, thread_id, position, run_id, role,"
                + " status, content, metadata, created_at, parent_id, branch_id) VALUES (?, ?, ?, ?, ?, 'completed', " + jsonParam
                + ", " + jsonParam + ", ?, ?, ?)")) {
            s.setString(1, id);
            s.setString(2, threadId);
            s.setLong(3, position);
            s.setString(4, runId);
            s.setString(5, role);
            s.setString(6, content);
            s.setString(7, "{}");
            s.setObject(8, at);
            s.setString(9, parent);
            s.setString(10, branch);
            s.executeUpdate();
        }
    }

    private static void event(StringBuilder events, int seq, String type, String payload) {
        events.append(seq == 1 ? "" : ",").append("{\"seq\":").append(seq).append(",\"type\":\"").append(type)
                .append("\",\"payload\":").append(payload).append('}');
    }

    /** An id of Parley's shape: the prefix and 32 alphanumerics. */
    private static String id(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "");
    }

    private static String textContent(String text) throws Exception {
        return "[{\"type\":\"text\",\"text\":" + JSON.writeValueAsString(text) + "}]";
    }

    private static OffsetDateTime now() {
        return OffsetDateTime.now(ZoneOffset.UTC);
    }
}
