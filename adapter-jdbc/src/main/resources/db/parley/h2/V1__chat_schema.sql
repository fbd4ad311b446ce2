-- Parley chat store, H2 (2.x). Same tables as on PostgreSQL; JSON documents are kept as text,
-- and the one-run-in-progress rule uses a generated column (H2 has no partial indexes).

CREATE TABLE parley_threads (
    id            varchar(80)                 PRIMARY KEY,
    owner_id      character varying           NOT NULL,
    agent_id      varchar(64)                 NOT NULL,
    title         character varying,
    metadata      character varying           NOT NULL,
    message_count bigint                      DEFAULT 0 NOT NULL,
    created_at    timestamp(6) with time zone NOT NULL,
    updated_at    timestamp(6) with time zone NOT NULL,
    deleted_at    timestamp(6) with time zone
);
CREATE INDEX parley_threads_owner_recent ON parley_threads (owner_id, updated_at DESC, id DESC);
CREATE INDEX parley_threads_owner_agent_recent ON parley_threads (owner_id, agent_id, updated_at DESC, id DESC);

CREATE TABLE parley_messages (
    id           varchar(80)                 PRIMARY KEY,
    thread_id    varchar(80)                 NOT NULL REFERENCES parley_threads (id),
    position     bigint                      NOT NULL,
    run_id       varchar(80),
    role         varchar(16)                 NOT NULL,
    status       varchar(16)                 NOT NULL,
    content      character varying           NOT NULL,
    tool_calls   character varying,
    tool_call_id character varying,
    metadata     character varying           NOT NULL,
    created_at   timestamp(6) with time zone NOT NULL,
    CONSTRAINT parley_messages_thread_position UNIQUE (thread_id, position)
);

CREATE TABLE parley_runs (
    id                   varchar(80)                 PRIMARY KEY,
    thread_id            varchar(80)                 NOT NULL REFERENCES parley_threads (id),
    agent_id             varchar(64)                 NOT NULL,
    model                character varying,
    user_message_id      varchar(80)                 NOT NULL,
    status               varchar(16)                 NOT NULL,
    assistant_message_id varchar(80),
    input_tokens         bigint                      NOT NULL,
    output_tokens        bigint                      NOT NULL,
    usage_estimated      boolean                     NOT NULL,
    cost_usd             varchar(128),
    error_code           character varying,
    error_message        character varying,
    created_at           timestamp(6) with time zone NOT NULL,
    started_at           timestamp(6) with time zone,
    completed_at         timestamp(6) with time zone,
    in_progress_thread   varchar(80) GENERATED ALWAYS AS (CASE WHEN status = 'in_progress' THEN thread_id END)
);
-- At most one run in progress per thread: NULLs (every other status) never collide.
CREATE UNIQUE INDEX parley_runs_one_in_progress ON parley_runs (in_progress_thread);
CREATE INDEX parley_runs_thread_recent ON parley_runs (thread_id, created_at DESC, id DESC);
CREATE INDEX parley_runs_status ON parley_runs (status, created_at, id);

CREATE TABLE parley_steps (
    id              varchar(80)                 PRIMARY KEY,
    run_id          varchar(80)                 NOT NULL REFERENCES parley_runs (id),
    position        integer                     NOT NULL,
    type            varchar(32)                 NOT NULL,
    status          varchar(16)                 NOT NULL,
    tool_call_id    character varying,
    tool_name       character varying,
    tool_arguments  character varying,
    output          character varying,
    error           character varying,
    input_tokens    bigint                      NOT NULL,
    output_tokens   bigint                      NOT NULL,
    usage_estimated boolean                     NOT NULL,
    started_at      timestamp(6) with time zone NOT NULL,
    completed_at    timestamp(6) with time zone
);
CREATE UNIQUE INDEX parley_steps_run_position ON parley_steps (run_id, position);

CREATE TABLE parley_run_events (
    run_id     varchar(80)                 NOT NULL,
    seq        bigint                      NOT NULL,
    type       varchar(32)                 NOT NULL,
    payload    character varying           NOT NULL,
    created_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE parley_idempotency_keys (
    owner_id     character varying           NOT NULL,
    scope        character varying           NOT NULL,
    idem_key     character varying           NOT NULL,
    request_hash character varying           NOT NULL,
    thread_id    varchar(80)                 NOT NULL REFERENCES parley_threads (id),
    run_id       varchar(80)                 NOT NULL,
    created_at   timestamp(6) with time zone NOT NULL,
    PRIMARY KEY (owner_id, scope, idem_key)
);
CREATE INDEX parley_idempotency_keys_thread ON parley_idempotency_keys (thread_id);
CREATE INDEX parley_idempotency_keys_created ON parley_idempotency_keys (created_at);
