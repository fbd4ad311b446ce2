package dev.parley.adapter.jdbc;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import java.util.Optional;

/**
 * What {@code parley_runs} records of a run beside its state: the agent version and instructions it
 * sent, and where it came from (see {@link dev.parley.chat.port.out.RunStore#recordRun}).
 */
final class JdbiRunRecords {
    private final Db db;

    JdbiRunRecords(Db db) {
        this.db = db;
    }

    void recordInstructions(RunId id, RunInstructions instructions) {
        Require.notNull(instructions, "instructions");
        int updated = db.call(h -> h.createUpdate("UPDATE " + db.table("parley_runs")
                        + " SET agent_version = :version, instructions = :instructions WHERE id = :id")
                .bind("id", id.value())
                .bind("version", instructions.agentVersion())
                .bind("instructions", Text.put(instructions.instructions()))
                .execute());
        if (updated == 0) {
            throw NotFoundException.run(id);
        }
    }

    Optional<RunInstructions> instructions(RunId id) {
        return db.call(h -> h.createQuery("SELECT agent_version, instructions FROM " + db.table("parley_runs")
                        + " WHERE id = :id AND agent_version IS NOT NULL")
                .bind("id", id.value())
                .map((rs, ctx) -> new RunInstructions(rs.getInt("agent_version"), Text.get(rs.getString("instructions"))))
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
        int updated = db.call(h -> h.createUpdate("UPDATE " + db.table("parley_runs")
                        + " SET agent_version = :version, instructions = :instructions, origin_request_id = :request,"
                        + " origin_trace = :trace WHERE id = :id")
                .bind("id", id.value())
                .bind("version", instructions.agentVersion())
                .bind("instructions", Text.put(instructions.instructions()))
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
