package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.WireEnum;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * What {@code parley_runs} records of a run beside its state: the agent version, instructions and
 * model settings it sent, the answer it continued and whether it withheld the tools that require
 * approval, and where it came from (see
 * {@link dev.parley.chat.port.out.RunStore#recordRun}).
 */
final class JdbiRunRecords {
    private static final String INSTRUCTIONS = "agent_version = :version, instructions = :instructions, temperature = :temperature,"
            + " max_output_tokens = :max_output_tokens, reasoning_effort = :reasoning_effort, continued_from = :continued_from,"
            + " approval_tools_withheld = :approval_tools_withheld";
    private final Db db;

    JdbiRunRecords(Db db) {
        this.db = db;
    }

    /** The columns of a run's record, for an INSERT of the run that carries it ({@link #bindRecord}). */
    static final String RECORD_COLUMNS = "agent_version, instructions, temperature, max_output_tokens, reasoning_effort, continued_from,"
            + " approval_tools_withheld, origin_request_id, origin_trace";
    /** The values of {@link #RECORD_COLUMNS}. */
    static final String RECORD_VALUES = ":version, :instructions, :temperature, :max_output_tokens, :reasoning_effort, :continued_from,"
            + " :approval_tools_withheld, :request, :trace";

    /** Binds {@link #RECORD_VALUES}: what the run was given and where it came from. */
    static <S extends SqlStatement<S>> S bindRecord(S statement, RunInstructions instructions, RunOrigin origin) {
        Require.notNull(instructions, "instructions");
        Require.notNull(origin, "origin");
        return bind(statement, instructions).bind("request", Args.text(origin.requestId()))
                .bind("trace", Args.text(origin.traceContext()));
    }

    private static <S extends SqlStatement<S>> S bind(S statement, RunInstructions used) {
        ModelSettings settings = used.settings();
        return statement
                .bind("version", Args.int32(used.agentVersion()))
                .bind("instructions", Args.text(Text.put(used.instructions())))
                .bind("temperature", Args.float64(settings.temperature()))
                .bind("max_output_tokens", Args.int32(settings.maxOutputTokens()))
                .bind("reasoning_effort", Args.text(settings.reasoningEffort() == null ? null : settings.reasoningEffort().wireName()))
                .bind("continued_from", Args.text(Text.put(used.continuedFrom())))
                .bind("approval_tools_withheld", Args.bool(used.approvalToolsWithheld()));
    }

    private static RunInstructions instructions(ResultSet rs) throws SQLException {
        String effort = rs.getString("reasoning_effort");
        ModelSettings settings = new ModelSettings((Double) rs.getObject("temperature", Double.class),
                (Integer) rs.getObject("max_output_tokens", Integer.class),
                effort == null ? null : WireEnum.fromWire(ReasoningEffort.class, effort).orElse(null));
        return new RunInstructions(rs.getInt("agent_version"), Text.get(rs.getString("instructions")), settings,
                Text.get(rs.getString("continued_from")), rs.getBoolean("approval_tools_withheld"));
    }

    void recordInstructions(RunId id, RunInstructions instructions) {
        Require.notNull(instructions, "instructions");
        int updated = db.call(h -> bind(h.createUpdate("UPDATE " + db.table("parley_runs") + " SET " + INSTRUCTIONS + " WHERE id = :id"),
                instructions).bind("id", id.value()).execute());
        if (updated == 0) {
            throw NotFoundException.run(id);
        }
    }

    Optional<RunInstructions> instructions(RunId id) {
        return db.call(h -> h.createQuery("SELECT agent_version, instructions, temperature, max_output_tokens, reasoning_effort,"
                        + " continued_from, approval_tools_withheld FROM " + db.table("parley_runs") + " WHERE id = :id AND agent_version IS NOT NULL")
                .bind("id", id.value())
                .map((rs, ctx) -> instructions(rs))
                .findOne());
    }

    void recordOrigin(RunId id, RunOrigin origin) {
        Require.notNull(origin, "origin");
        int updated = db.call(h -> h.createUpdate("UPDATE " + db.table("parley_runs")
                        + " SET origin_request_id = :request, origin_trace = :trace WHERE id = :id")
                .bind("id", id.value())
                .bind("request", origin.requestId())
                .bind("trace", origin.traceContext())
                .execute());
        if (updated == 0) {
            throw NotFoundException.run(id);
        }
    }

    /** The instructions and the origin in one statement: the send transaction writes no more rows than without an origin. */
    void recordRun(RunId id, RunInstructions instructions, RunOrigin origin) {
        Require.notNull(instructions, "instructions");
        Require.notNull(origin, "origin");
        int updated = db.call(h -> bind(h.createUpdate("UPDATE " + db.table("parley_runs") + " SET " + INSTRUCTIONS
                        + ", origin_request_id = :request, origin_trace = :trace WHERE id = :id"), instructions)
                .bind("id", id.value())
                .bind("request", origin.requestId())
                .bind("trace", origin.traceContext())
                .execute());
        if (updated == 0) {
            throw NotFoundException.run(id);
        }
    }

    RunOrigin origin(RunId id) {
        return db.call(h -> h.createQuery("SELECT origin_request_id, origin_trace FROM " + db.table("parley_runs") + " WHERE id = :id")
                .bind("id", id.value())
                .map((rs, ctx) -> new RunOrigin(rs.getString("origin_request_id"), rs.getString("origin_trace")))
                .findOne()
                .orElse(RunOrigin.NONE));
    }
}
