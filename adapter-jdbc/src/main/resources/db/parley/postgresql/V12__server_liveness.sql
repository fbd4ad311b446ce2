-- Each server sharing the database holds a session-level advisory lock (class 1349676153, key
-- lock_key) on a connection of its own, whose session is backend_pid, and beats (beat grows, seen_at
-- moves) through its pool. PostgreSQL releases the lock the moment that session ends, as when the
-- server's process dies: a server whose session no longer holds its lock and whose beat stood still
-- for a while is gone, and other servers end its runs without waiting for their leases.
-- backend_pid is NULL while the server holds no lock (its leases alone then speak for it).
CREATE TABLE parley_servers (
    owner_id text PRIMARY KEY,
    lock_key integer,
    backend_pid integer,
    beat bigint NOT NULL DEFAULT 0,
    seen_at timestamptz NOT NULL DEFAULT now()
);
-- Runs in progress by owner: whether a server holds runs, and the runs of a server that is gone.
CREATE INDEX parley_runs_owner ON parley_runs (owner_id) WHERE status = 'in_progress';
