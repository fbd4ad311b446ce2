package dev.parley.adapter.jdbc;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import java.util.Optional;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The end of a run in a store with a ledger, once its answer's append counted the run in its thread's totals
 * ({@link JdbiMessageStore#appendCounting}, in the same transaction): the turn's last step stored, and the
 * run's row changed by a compare-and-set on its status that leaves it pending for the ledger's hourly rows.
 * On PostgreSQL the step's update rides in the run's statement (a data-changing common table expression), one
 * round trip for the two; H2 has no such expressions and makes two statements. Call inside a transaction:
 * a refusal (the run not in the expected status, the step not stored) leaves changed rows for it to roll back.
 */
final class JdbiRunEnds {
    private final Db db;
    private final JdbiRunSteps steps;
    private final String pending;
    /** {@link #pending}, answering whether a queued run waits on the run's thread. */
    private final String pendingLooking;
    /** PostgreSQL: the step's update with {@link #pending}, answering how many steps it updated; null on H2. */
    private final String withStep;
    /** PostgreSQL: the step's update with {@link #pendingLooking}, answering both; null on H2. */
    private final String withStepLooking;

    /** {@code updatePending}: the run's compare-and-set (its values and {@code :expected} bound) that leaves it pending. */
    JdbiRunEnds(Db db, JdbiRunSteps steps, String updatePending) {
        this.db = db;
        this.steps = steps;
        this.pending = updatePending;
        String queuedBehind = "EXISTS (SELECT 1 FROM " + db.table("parley_runs") + " q WHERE q.thread_id = :thread AND q.status = 'queued')";
        boolean pg = db.dialect() == Dialect.POSTGRESQL;
        pendingLooking = pg ? updatePending + " RETURNING " + queuedBehind
                : "SELECT " + queuedBehind + " FROM FINAL TABLE (" + updatePending + ")";
        String stepFirst = "WITH s AS (" + RunRows.stepParameters(steps.updateStep) + " RETURNING 1) ";
        String stepsUpdated = "(SELECT COUNT(*) FROM s) AS steps";
        withStep = pg ? stepFirst + updatePending + " RETURNING " + stepsUpdated : null;
        withStepLooking = pg ? stepFirst + updatePending + " RETURNING " + stepsUpdated + ", " + queuedBehind + " AS queued" : null;
    }

    /** Ends {@code run} with its turn's last step; false when the run was not {@code expected}. */
    boolean end(Step turnEnd, Run run, RunStatus expected) {
        Require.that(run.isTerminal(), "only a run's end");
        if (withStep == null) {
            steps.updateStep(turnEnd);
            return RunRows.changed(db, run, db.call(h -> bound(h.createUpdate(pending), turnEnd, run, expected, false).execute()) == 1);
        }
        Optional<Long> updated = db.call(h -> bound(h.createQuery(withStep), turnEnd, run, expected, true)
                .mapTo(Long.class).findOne());
        updated.ifPresent(stepsUpdated -> requireStep(turnEnd, stepsUpdated));
        return RunRows.changed(db, run, updated.isPresent());
    }

    /**
     * {@link #end}, answering in the same statement whether a queued run waits on the run's thread (its snapshot is
     * taken after the statements before it in the transaction locked the thread): empty when the run was not
     * {@code expected}.
     */
    Optional<Boolean> endLooking(Step turnEnd, Run run, RunStatus expected) {
        Require.that(run.isTerminal(), "only a run's end");
        if (withStepLooking == null) {
            steps.updateStep(turnEnd);
            Optional<Boolean> queued = db.call(h -> bound(h.createQuery(pendingLooking), turnEnd, run, expected, false)
                    .mapTo(Boolean.class).findOne());
            RunRows.changed(db, run, queued.isPresent());
            return queued;
        }
        Optional<Looked> looked = db.call(h -> bound(h.createQuery(withStepLooking), turnEnd, run, expected, true)
                .map((rs, ctx) -> new Looked(rs.getLong("steps"), rs.getBoolean("queued")))
                .findOne());
        looked.ifPresent(l -> requireStep(turnEnd, l.stepsUpdated()));
        RunRows.changed(db, run, looked.isPresent());
        return looked.map(Looked::queued);
    }

    /** What the PostgreSQL statement of {@link #endLooking} answers. */
    private record Looked(long stepsUpdated, boolean queued) {}

    private static <S extends SqlStatement<S>> S bound(S statement, Step turnEnd, Run run, RunStatus expected, boolean withStep) {
        RunRows.bindRun(statement, run).bind("expected", Args.text(expected.wireName()));
        return withStep ? RunRows.bindStep(statement, turnEnd, RunRows.STEP_PREFIX) : statement;
    }

    private static void requireStep(Step step, long updated) {
        if (updated == 0) {
            throw new NotFoundException("not_found", "No step " + step.id() + " in run " + step.runId());
        }
    }
}
