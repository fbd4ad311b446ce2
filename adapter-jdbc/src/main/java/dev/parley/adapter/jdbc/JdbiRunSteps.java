package dev.parley.adapter.jdbc;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import java.util.List;

/**
 * A run's steps in {@code parley_steps} (see {@link dev.parley.chat.port.out.RunStore#insertStep}); rows are
 * bound and read by {@link RunRows}. Steps of a run whose thread is soft-deleted are hidden with it.
 */
final class JdbiRunSteps {
    private final Db db;
    private final String insertStep;
    /** A step's update (its values bound by {@link RunRows#bindStep}); {@link JdbiRunEnds} sends it with a run's end. */
    final String updateStep;
    private final String updateStepIf;
    private final String steps;

    JdbiRunSteps(Db db) {
        this.db = db;
        String stepTable = db.table("parley_steps");
        insertStep = "INSERT INTO " + stepTable + " (" + RunRows.STEP_COLUMNS + ") VALUES (" + RunRows.STEP_VALUES + ")";
        updateStep = "UPDATE " + stepTable + " SET " + RunRows.STEP_ASSIGNMENTS + " WHERE id = :id AND run_id = :run";
        updateStepIf = updateStep + " AND status = :expected";
        steps = "SELECT " + RunRows.STEP_COLUMNS + " FROM " + stepTable + " WHERE run_id = :run AND EXISTS (SELECT 1 FROM "
                + db.table("parley_runs") + " r JOIN " + db.table("parley_threads") + " t ON t.id = r.thread_id"
                + " WHERE r.id = :run AND t.deleted_at IS NULL) ORDER BY run_id, position";
    }

    void insertStep(Step step) {
        try {
            db.call(h -> RunRows.bindStep(h.createUpdate(insertStep), step).execute());
        } catch (NotFoundException e) {
            throw NotFoundException.run(step.runId());
        }
    }

    void updateStep(Step step) {
        int updated = db.call(h -> RunRows.bindStep(h.createUpdate(updateStep), step).execute());
        if (updated == 0) {
            throw new NotFoundException("not_found", "No step " + step.id() + " in run " + step.runId());
        }
    }

    boolean updateStep(Step step, StepStatus expected) {
        Require.notNull(expected, "expected");
        return db.call(h -> RunRows.bindStep(h.createUpdate(updateStepIf), step).bind("expected", expected.wireName()).execute()) == 1;
    }

    List<Step> steps(RunId runId) {
        return db.call(h -> h.createQuery(steps).bind("run", runId.value()).map((rs, ctx) -> RunRows.step(rs)).list());
    }
}
