-- Stored agents. parley_agents holds what is true of an agent across its versions (owner, status,
-- latest version, and the latest version's visibility, which listing filters on);
-- parley_agent_versions holds every version, immutable once written.
CREATE TABLE parley_agents (
    id             varchar(80)                 PRIMARY KEY,
    owner_id       character varying           NOT NULL,
    visibility     varchar(16)                 NOT NULL,
    status         varchar(16)                 NOT NULL,
    latest_version integer                     NOT NULL CHECK (latest_version >= 1),
    created_at     timestamp(6) with time zone NOT NULL,
    updated_at     timestamp(6) with time zone NOT NULL
);
-- The two halves of what a user sees, each a keyset on id, newest first.
CREATE INDEX parley_agents_shared ON parley_agents (visibility, status, id DESC);
CREATE INDEX parley_agents_owner ON parley_agents (owner_id, status, id DESC);

-- One row per version. The primary key rules out two writers making the same version; the
-- conditional update of parley_agents.latest_version (from n - 1 to n) rules out a lost update.
CREATE TABLE parley_agent_versions (
    agent_id   varchar(80)                 NOT NULL REFERENCES parley_agents (id),
    version    integer                     NOT NULL,
    definition character varying           NOT NULL,
    created_at timestamp(6) with time zone NOT NULL,
    PRIMARY KEY (agent_id, version)
);

-- What each run took from its agent: the version and the rendered instructions it sent.
ALTER TABLE parley_runs ADD COLUMN agent_version integer;
ALTER TABLE parley_runs ADD COLUMN instructions character varying;

-- The agent version a thread was pinned to at creation; null: it follows the latest version.
ALTER TABLE parley_threads ADD COLUMN agent_version integer;
