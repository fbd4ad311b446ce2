-- Runs that wait for a person's approval of tool calls (status requires_action) hold their thread
-- like a run in progress: at most one of either per thread (a unique generated column, as H2 has no
-- partial indexes).
DROP INDEX parley_runs_one_in_progress;
ALTER TABLE parley_runs DROP COLUMN in_progress_thread;
ALTER TABLE parley_runs ADD COLUMN in_progress_thread varchar(80)
    GENERATED ALWAYS AS (CASE WHEN status IN ('in_progress', 'requires_action') THEN thread_id END);
CREATE UNIQUE INDEX parley_runs_one_in_progress ON parley_runs (in_progress_thread);

-- When a waiting run's undecided tool calls are denied (reason timeout); NULL on every other run.
ALTER TABLE parley_runs ADD COLUMN decide_by timestamp(6) with time zone;
CREATE INDEX parley_runs_decide_by ON parley_runs (status, decide_by, created_at, id);

-- awaiting_approval is longer than the statuses before it.
ALTER TABLE parley_steps ALTER COLUMN status SET DATA TYPE varchar(32);
