-- Parley chat store, PostgreSQL.
-- Text that may hold U+0000 is stored escaped by the adapter (PostgreSQL rejects NUL in text and jsonb).

CREATE TABLE parley_threads (
    id            varchar(80)  PRIMARY KEY,
    owner_id      text         NOT NULL,
    agent_id      varchar(64)  NOT NULL,
    title         text,
    metadata      jsonb        NOT NULL,
    message_count bigint       NOT NULL DEFAULT 0,  -- also the position of the last message
    created_at    timestamptz  NOT NULL,
    updated_at    timestamptz  NOT NULL,
    deleted_at    timestamptz
);
-- A user's live threads, most recently updated first (keyset on updated_at, id).
CREATE INDEX parley_threads_owner_recent
    ON parley_threads (owner_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX parley_threads_owner_agent_recent
    ON parley_threads (owner_id, agent_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE parley_messages (
    id           varchar(80)  PRIMARY KEY,
    thread_id    varchar(80)  NOT NULL REFERENCES parley_threads (id),
    position     bigint       NOT NULL,
    run_id       varchar(80),
    role         varchar(16)  NOT NULL,
    status       varchar(16)  NOT NULL,
    content      jsonb        NOT NULL,
    tool_calls   jsonb,
    tool_call_id text,
    metadata     jsonb        NOT NULL,
    created_at   timestamptz  NOT NULL,
    CONSTRAINT parley_messages_thread_position UNIQUE (thread_id, position)
);

CREATE TABLE parley_runs (
    id                   varchar(80)  PRIMARY KEY,
    thread_id            varchar(80)  NOT NULL REFERENCES parley_threads (id),
    agent_id             varchar(64)  NOT NULL,
    model                text,
    user_message_id      varchar(80)  NOT NULL,
    status               varchar(16)  NOT NULL,
    assistant_message_id varchar(80),
    input_tokens         bigint       NOT NULL,
    output_tokens        bigint       NOT NULL,
    usage_estimated      boolean      NOT NULL,
    cost_usd             numeric,
    error_code           text,
    error_message        text,
    created_at           timestamptz  NOT NULL,
    started_at           timestamptz,
    completed_at         timestamptz
);
-- At most one run in progress per thread, for every server sharing the database.
CREATE UNIQUE INDEX parley_runs_one_in_progress ON parley_runs (thread_id) WHERE status = 'in_progress';
-- A thread's runs, newest first (keyset on created_at, id).
CREATE INDEX parley_runs_thread_recent ON parley_runs (thread_id, created_at DESC, id DESC);
-- Active runs: per thread (the queue) and across threads (recovery after a restart).
CREATE INDEX parley_runs_thread_active ON parley_runs (thread_id, created_at, id)
    WHERE status IN ('queued', 'in_progress');
CREATE INDEX parley_runs_status_active ON parley_runs (status, created_at, id)
    WHERE status IN ('queued', 'in_progress');

CREATE TABLE parley_steps (
    id              varchar(80)  PRIMARY KEY,
    run_id          varchar(80)  NOT NULL REFERENCES parley_runs (id),
    position        integer      NOT NULL,
    type            varchar(32)  NOT NULL,
    status          varchar(16)  NOT NULL,
    tool_call_id    text,
    tool_name       text,
    tool_arguments  text,
    output          text,
    error           text,
    input_tokens    bigint       NOT NULL,
    output_tokens   bigint       NOT NULL,
    usage_estimated boolean      NOT NULL,
    started_at      timestamptz  NOT NULL,
    completed_at    timestamptz
);
CREATE UNIQUE INDEX parley_steps_run_position ON parley_steps (run_id, position);

-- The replayable event log of every run. No foreign key: the log is written by the event bus,
-- which may run ahead of the run row on another connection.
CREATE TABLE parley_run_events (
    run_id     varchar(80)  NOT NULL,
    seq        bigint       NOT NULL,
    type       varchar(32)  NOT NULL,
    payload    jsonb        NOT NULL,
    created_at timestamptz  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE parley_idempotency_keys (
    owner_id     text         NOT NULL,
    scope        text         NOT NULL,
    idem_key     text         NOT NULL,
    request_hash text         NOT NULL,
    thread_id    varchar(80)  NOT NULL REFERENCES parley_threads (id),
    run_id       varchar(80)  NOT NULL,
    created_at   timestamptz  NOT NULL,
    PRIMARY KEY (owner_id, scope, idem_key)
);
CREATE INDEX parley_idempotency_keys_thread ON parley_idempotency_keys (thread_id);
CREATE INDEX parley_idempotency_keys_created ON parley_idempotency_keys (created_at);
