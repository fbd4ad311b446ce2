-- Usage and cost kept as runs end (in the transaction that ends each run), so that no report reads
-- every run: the totals of each thread, and an hourly ledger per user (by agent and model, and by
-- thread). The ledger outlives deleted threads. Costs are US dollars; unpriced_runs counts the runs
-- whose model had no price (their cost is not in cost_usd).
ALTER TABLE parley_threads ADD COLUMN runs_count    bigint         NOT NULL DEFAULT 0;
ALTER TABLE parley_threads ADD COLUMN input_tokens  bigint         NOT NULL DEFAULT 0;
ALTER TABLE parley_threads ADD COLUMN output_tokens bigint         NOT NULL DEFAULT 0;
ALTER TABLE parley_threads ADD COLUMN cost_usd      numeric(38, 12) NOT NULL DEFAULT 0;
ALTER TABLE parley_threads ADD COLUMN unpriced_runs bigint         NOT NULL DEFAULT 0;

CREATE TABLE parley_usage_hourly (
    owner_id      text            NOT NULL,
    hour_start          timestamptz     NOT NULL,
    agent_id      varchar(64)     NOT NULL,
    model         text            NOT NULL,  -- '' for runs without a model name
    runs          bigint          NOT NULL,
    input_tokens  bigint          NOT NULL,
    output_tokens bigint          NOT NULL,
    cost_usd      numeric(38, 12) NOT NULL,
    unpriced_runs bigint          NOT NULL,
    PRIMARY KEY (owner_id, hour_start, agent_id, model)
);
-- Every user's usage in a range (administrators' reports by user).
CREATE INDEX parley_usage_hourly_hour ON parley_usage_hourly (hour_start);

CREATE TABLE parley_usage_thread_hourly (
    owner_id      text            NOT NULL,
    hour_start          timestamptz     NOT NULL,
    thread_id     varchar(80)     NOT NULL,
    runs          bigint          NOT NULL,
    input_tokens  bigint          NOT NULL,
    output_tokens bigint          NOT NULL,
    cost_usd      numeric(38, 12) NOT NULL,
    unpriced_runs bigint          NOT NULL,
    PRIMARY KEY (owner_id, hour_start, thread_id)
);

-- The runs that ended before this migration.
UPDATE parley_threads t SET runs_count = r.runs, input_tokens = r.input_tokens, output_tokens = r.output_tokens,
       cost_usd = r.cost_usd, unpriced_runs = r.unpriced_runs
  FROM (SELECT thread_id, count(*) AS runs, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
               coalesce(sum(cost_usd), 0) AS cost_usd, count(*) - count(cost_usd) AS unpriced_runs
          FROM parley_runs WHERE completed_at IS NOT NULL GROUP BY thread_id) r
 WHERE t.id = r.thread_id;
INSERT INTO parley_usage_hourly
SELECT t.owner_id, date_trunc('hour', r.completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', r.agent_id, coalesce(r.model, ''),
       count(*), sum(r.input_tokens), sum(r.output_tokens), coalesce(sum(r.cost_usd), 0), count(*) - count(r.cost_usd)
  FROM parley_runs r JOIN parley_threads t ON t.id = r.thread_id
 WHERE r.completed_at IS NOT NULL
 GROUP BY 1, 2, 3, 4;
INSERT INTO parley_usage_thread_hourly
SELECT t.owner_id, date_trunc('hour', r.completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', r.thread_id,
       count(*), sum(r.input_tokens), sum(r.output_tokens), coalesce(sum(r.cost_usd), 0), count(*) - count(r.cost_usd)
  FROM parley_runs r JOIN parley_threads t ON t.id = r.thread_id
 WHERE r.completed_at IS NOT NULL
 GROUP BY 1, 2, 3;

-- The trash: a user's soft-deleted threads, most recently deleted first (keyset on deleted_at, id),
-- and every soft-deleted thread by deletion time (the retention purge).
CREATE INDEX parley_threads_owner_deleted
    ON parley_threads (owner_id, deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
CREATE INDEX parley_threads_deleted ON parley_threads (deleted_at, id) WHERE deleted_at IS NOT NULL;

-- Leases of periodic jobs (the trash purge), so that one server at a time does each.
CREATE TABLE parley_job_leases (
    name       varchar(64) PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
