-- Runs that wait for a person's approval of tool calls (status requires_action) hold their thread
-- like a run in progress: at most one of either per thread, and the queue waits behind them.
DROP INDEX parley_runs_one_in_progress;
CREATE UNIQUE INDEX parley_runs_one_in_progress ON parley_runs (thread_id)
    WHERE status IN ('in_progress', 'requires_action');
DROP INDEX parley_runs_thread_active;
CREATE INDEX parley_runs_thread_active ON parley_runs (thread_id, created_at, id)
    WHERE status IN ('queued', 'in_progress', 'requires_action');
DROP INDEX parley_runs_status_active;
CREATE INDEX parley_runs_status_active ON parley_runs (status, created_at, id)
    WHERE status IN ('queued', 'in_progress', 'requires_action');

-- When a waiting run's undecided tool calls are denied (reason timeout); NULL on every other run.
ALTER TABLE parley_runs ADD COLUMN decide_by timestamptz;
CREATE INDEX parley_runs_decide_by ON parley_runs (decide_by, created_at, id)
    WHERE status = 'requires_action';

-- awaiting_approval is longer than the statuses before it.
ALTER TABLE parley_steps ALTER COLUMN status TYPE varchar(32);
