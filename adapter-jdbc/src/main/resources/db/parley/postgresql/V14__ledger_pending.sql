-- Runs ended and not yet in the hourly rows of the usage ledger. A run's end sets the flag in the
-- run's own row (its thread's totals change in the same transaction); a background job moves pending
-- runs into parley_usage_hourly and parley_usage_thread_hourly and clears their flag in one
-- transaction, and reports add the pending runs to the hourly rows, so that each run counts once.
-- Null for the runs before this version, which the ledger's rows hold already.
ALTER TABLE parley_runs ADD COLUMN ledger_pending boolean;
CREATE INDEX parley_runs_ledger_pending ON parley_runs (completed_at) WHERE ledger_pending;
