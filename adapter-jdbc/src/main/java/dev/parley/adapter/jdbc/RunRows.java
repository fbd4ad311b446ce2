package dev.parley.adapter.jdbc;

import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunError;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.jdbi.v3.core.statement.SqlStatement;

/** A run's row of {@code parley_runs} and a step's of {@code parley_steps}: their columns, bound and read. */
final class RunRows {
    static final String COLUMNS = "id, thread_id, agent_id, model, user_message_id, status, assistant_message_id,"
            + " input_tokens, cached_input_tokens, output_tokens, usage_estimated, cost_usd, error_code, error_message,"
            + " created_at, started_at, completed_at";
    /** The values of {@link #COLUMNS}, as {@link #bindRun} binds them. */
    static final String VALUES = ":id, :thread, :agent, :model, :user_message, :status, :assistant_message, :input_tokens,"
            + " :cached_input_tokens, :output_tokens, :estimated, :cost, :error_code, :error_message, :created, :started, :completed";
    /** Every column a run's change may set (not its id, thread or creation time). */
    static final String ASSIGNMENTS = "agent_id = :agent, model = :model,"
            + " user_message_id = :user_message, status = :status, assistant_message_id = :assistant_message,"
            + " input_tokens = :input_tokens, cached_input_tokens = :cached_input_tokens, output_tokens = :output_tokens,"
            + " usage_estimated = :estimated, cost_usd = :cost, error_code = :error_code, error_message = :error_message,"
            + " started_at = :started, completed_at = :completed";
    static final String STEP_COLUMNS = "id, run_id, position, type, status, tool_call_id, tool_name, tool_arguments,"
            + " output, error, input_tokens, cached_input_tokens, output_tokens, usage_estimated, started_at, completed_at";
    /** The values of {@link #STEP_COLUMNS}, as {@link #bindStep} binds them. */
    static final String STEP_VALUES = ":id, :run, :position, :type, :status, :tool_call_id, :tool_name, :tool_arguments,"
            + " :output, :error, :input_tokens, :cached_input_tokens, :output_tokens, :estimated, :started, :completed";
    /** Every column a step's change may set (not its id or run). */
    static final String STEP_ASSIGNMENTS = "position = :position, type = :type, status = :status,"
            + " tool_call_id = :tool_call_id, tool_name = :tool_name, tool_arguments = :tool_arguments,"
            + " output = :output, error = :error, input_tokens = :input_tokens, cached_input_tokens = :cached_input_tokens,"
            + " output_tokens = :output_tokens, usage_estimated = :estimated, started_at = :started, completed_at = :completed";

    /** Before each of a step's parameter names in a statement that binds a run's values too ({@link #bindStep(SqlStatement, Step, String)}). */
    static final String STEP_PREFIX = "step_";

    private RunRows() {}

    /** {@code sql} with every named parameter prefixed by {@link #STEP_PREFIX}: a step's part of a statement with a run's. */
    static String stepParameters(String sql) {
        return sql.replace(":", ":" + STEP_PREFIX);
    }

    /**
     * Whether a compare-and-set of {@code run}'s row {@code changed} it; a changed run that has ended sends the
     * run-changed hint (at commit), which wakes whoever waits for its end.
     */
    static boolean changed(Db db, Run run, boolean changed) {
        if (changed && run.isTerminal()) {
            db.hint(Db.Hint.RUN_CHANGED, run.id().value());
        }
        return changed;
    }

    static <S extends SqlStatement<S>> S bindRun(S statement, Run run) {
        return statement
                .bind("id", Args.text(run.id().value()))
                .bind("thread", Args.text(run.threadId().value()))
                .bind("agent", Args.text(run.agentId()))
                .bind("model", Args.text(Text.put(run.model())))
                .bind("user_message", Args.text(run.userMessageId().value()))
                .bind("status", Args.text(run.status().wireName()))
                .bind("assistant_message", Args.text(run.assistantMessageId() == null ? null : run.assistantMessageId().value()))
                .bind("input_tokens", Args.int64(run.usage().inputTokens()))
                .bind("cached_input_tokens", Args.int64(run.usage().cachedInputTokens()))
                .bind("output_tokens", Args.int64(run.usage().outputTokens()))
                .bind("estimated", Args.bool(run.usage().estimated()))
                .bind("cost", Args.decimal(run.costUsd()))
                .bind("error_code", Args.text(run.error() == null ? null : Text.put(run.error().code())))
                .bind("error_message", Args.text(run.error() == null ? null : Text.put(run.error().message())))
                .bind("created", Args.time(run.createdAt()))
                .bind("started", Args.time(run.startedAt()))
                .bind("completed", Args.time(run.completedAt()));
    }

    static <S extends SqlStatement<S>> S bindStep(S statement, Step step) {
        return bindStep(statement, step, "");
    }

    /** {@link #bindStep}, each name after {@code prefix} (a statement that binds a run's values too). */
    static <S extends SqlStatement<S>> S bindStep(S statement, Step step, String prefix) {
        ToolCall call = step.toolCall();
        return statement
                .bind(prefix + "id", Args.text(step.id().value()))
                .bind(prefix + "run", Args.text(step.runId().value()))
                .bind(prefix + "position", Args.int32(step.position()))
                .bind(prefix + "type", Args.text(step.type().wireName()))
                .bind(prefix + "status", Args.text(step.status().wireName()))
                .bind(prefix + "tool_call_id", Args.text(call == null ? null : Text.put(call.id())))
                .bind(prefix + "tool_name", Args.text(call == null ? null : Text.put(call.name())))
                .bind(prefix + "tool_arguments", Args.text(call == null ? null : Text.put(call.arguments())))
                .bind(prefix + "output", Args.text(Text.put(step.output())))
                .bind(prefix + "error", Args.text(Text.put(step.error())))
                .bind(prefix + "input_tokens", Args.int64(step.usage().inputTokens()))
                .bind(prefix + "cached_input_tokens", Args.int64(step.usage().cachedInputTokens()))
                .bind(prefix + "output_tokens", Args.int64(step.usage().outputTokens()))
                .bind(prefix + "estimated", Args.bool(step.usage().estimated()))
                .bind(prefix + "started", Args.time(step.startedAt()))
                .bind(prefix + "completed", Args.time(step.completedAt()));
    }

    static Run run(ResultSet rs) throws SQLException {
        String assistant = rs.getString("assistant_message_id");
        String errorCode = rs.getString("error_code");
        return new Run(
                new RunId(rs.getString("id")),
                new ThreadId(rs.getString("thread_id")),
                rs.getString("agent_id"),
                Text.get(rs.getString("model")),
                new MessageId(rs.getString("user_message_id")),
                Json.wire(RunStatus.class, rs.getString("status")),
                assistant == null ? null : new MessageId(assistant),
                usage(rs),
                cost(rs),
                errorCode == null ? null : new RunError(Text.get(errorCode), Text.get(rs.getString("error_message"))),
                Db.instant(rs, "created_at"),
                Db.instant(rs, "started_at"),
                Db.instant(rs, "completed_at"),
                (Integer) rs.getObject("agent_version", Integer.class));
    }

    private static BigDecimal cost(ResultSet rs) throws SQLException {
        String text = rs.getString("cost_usd");
        return text == null ? null : new BigDecimal(text);
    }

    static Step step(ResultSet rs) throws SQLException {
        String callId = rs.getString("tool_call_id");
        return new Step(
                new StepId(rs.getString("id")),
                new RunId(rs.getString("run_id")),
                rs.getInt("position"),
                Json.wire(StepType.class, rs.getString("type")),
                Json.wire(StepStatus.class, rs.getString("status")),
                callId == null ? null : new ToolCall(Text.get(callId), Text.get(rs.getString("tool_name")),
                        Text.get(rs.getString("tool_arguments"))),
                Text.get(rs.getString("output")),
                Text.get(rs.getString("error")),
                usage(rs),
                Db.instant(rs, "started_at"),
                Db.instant(rs, "completed_at"));
    }

    /** The usage columns of a run's or a step's row. */
    private static Usage usage(ResultSet rs) throws SQLException {
        long input = rs.getLong("input_tokens");
        return new Usage(input, Math.min(input, rs.getLong("cached_input_tokens")), rs.getLong("output_tokens"),
                rs.getBoolean("usage_estimated"));
    }
}
