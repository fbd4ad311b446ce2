-- Runs ended and not yet in the hourly rows of the usage ledger (see the PostgreSQL migration of the
-- same version). H2 has no partial indexes: the flag joins the index a run's end changes anyway.
ALTER TABLE parley_runs ADD COLUMN ledger_pending boolean;
DROP INDEX parley_runs_log_kept;
CREATE INDEX parley_runs_log_kept ON parley_runs (events_expired_at, ledger_pending, completed_at);
