-- Usage and cost kept as runs end (see the PostgreSQL migration of the same version).
ALTER TABLE parley_threads ADD COLUMN runs_count    bigint          DEFAULT 0 NOT NULL;
ALTER TABLE parley_threads ADD COLUMN input_tokens  bigint          DEFAULT 0 NOT NULL;
ALTER TABLE parley_threads ADD COLUMN output_tokens bigint          DEFAULT 0 NOT NULL;
ALTER TABLE parley_threads ADD COLUMN cost_usd      numeric(38, 12) DEFAULT 0 NOT NULL;
ALTER TABLE parley_threads ADD COLUMN unpriced_runs bigint          DEFAULT 0 NOT NULL;

CREATE TABLE parley_usage_hourly (
    owner_id      character varying           NOT NULL,
    hour_start          timestamp(6) with time zone NOT NULL,
    agent_id      varchar(64)                 NOT NULL,
    model         character varying           NOT NULL,
    runs          bigint                      NOT NULL,
    input_tokens  bigint                      NOT NULL,
    output_tokens bigint                      NOT NULL,
    cost_usd      numeric(38, 12)             NOT NULL,
    unpriced_runs bigint                      NOT NULL,
    PRIMARY KEY (owner_id, hour_start, agent_id, model)
);
CREATE INDEX parley_usage_hourly_hour ON parley_usage_hourly (hour_start);

CREATE TABLE parley_usage_thread_hourly (
    owner_id      character varying           NOT NULL,
    hour_start          timestamp(6) with time zone NOT NULL,
    thread_id     varchar(80)                 NOT NULL,
    runs          bigint                      NOT NULL,
    input_tokens  bigint                      NOT NULL,
    output_tokens bigint                      NOT NULL,
    cost_usd      numeric(38, 12)             NOT NULL,
    unpriced_runs bigint                      NOT NULL,
    PRIMARY KEY (owner_id, hour_start, thread_id)
);

UPDATE parley_threads t SET
    runs_count = (SELECT count(*) FROM parley_runs r WHERE r.thread_id = t.id AND r.completed_at IS NOT NULL),
    input_tokens = (SELECT coalesce(sum(r.input_tokens), 0) FROM parley_runs r WHERE r.thread_id = t.id AND r.completed_at IS NOT NULL),
    output_tokens = (SELECT coalesce(sum(r.output_tokens), 0) FROM parley_runs r WHERE r.thread_id = t.id AND r.completed_at IS NOT NULL),
    cost_usd = (SELECT coalesce(sum(CAST(r.cost_usd AS numeric(38, 12))), 0) FROM parley_runs r
                 WHERE r.thread_id = t.id AND r.completed_at IS NOT NULL),
    unpriced_runs = (SELECT count(*) - count(r.cost_usd) FROM parley_runs r WHERE r.thread_id = t.id AND r.completed_at IS NOT NULL);
INSERT INTO parley_usage_hourly
SELECT t.owner_id, DATE_TRUNC('HOUR', r.completed_at), r.agent_id, coalesce(r.model, ''),
       count(*), sum(r.input_tokens), sum(r.output_tokens), coalesce(sum(CAST(r.cost_usd AS numeric(38, 12))), 0),
       count(*) - count(r.cost_usd)
  FROM parley_runs r JOIN parley_threads t ON t.id = r.thread_id
 WHERE r.completed_at IS NOT NULL
 GROUP BY t.owner_id, DATE_TRUNC('HOUR', r.completed_at), r.agent_id, coalesce(r.model, '');
INSERT INTO parley_usage_thread_hourly
SELECT t.owner_id, DATE_TRUNC('HOUR', r.completed_at), r.thread_id,
       count(*), sum(r.input_tokens), sum(r.output_tokens), coalesce(sum(CAST(r.cost_usd AS numeric(38, 12))), 0),
       count(*) - count(r.cost_usd)
  FROM parley_runs r JOIN parley_threads t ON t.id = r.thread_id
 WHERE r.completed_at IS NOT NULL
 GROUP BY t.owner_id, DATE_TRUNC('HOUR', r.completed_at), r.thread_id;

-- The trash (H2 has no partial indexes).
CREATE INDEX parley_threads_owner_deleted ON parley_threads (owner_id, deleted_at DESC, id DESC);
CREATE INDEX parley_threads_deleted ON parley_threads (deleted_at, id);

CREATE TABLE parley_job_leases (
    name       varchar(64)                 PRIMARY KEY,
    holder     character varying           NOT NULL,
    expires_at timestamp(6) with time zone NOT NULL
);
