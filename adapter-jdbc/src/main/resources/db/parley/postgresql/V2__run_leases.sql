-- A run in progress is held by the server executing it (owner_id) under a lease that the owner
-- renews while it executes; a run whose lease expired belongs to a server that stopped, and any
-- server may end it. Both columns stay NULL on runs that never started.
ALTER TABLE parley_runs ADD COLUMN owner_id text;
ALTER TABLE parley_runs ADD COLUMN lease_expires_at timestamptz;
-- Runs in progress by lease expiry (those without a lease first): what the reaper asks for.
CREATE INDEX parley_runs_lease ON parley_runs (lease_expires_at NULLS FIRST, created_at, id)
    WHERE status = 'in_progress';
