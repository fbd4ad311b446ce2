-- The run event log in chunks: one row per flushed batch of a run's events while the run goes on
-- (first_seq..last_seq, the events as one JSON array), rewritten into deflated rows of up to 1,000
-- events each (packed) once the run's log is terminal. Reads are a keyset on (run_id, last_seq): the chunk holding seq N + 1 and
-- those after it. The unique (run_id, first_seq) makes two writers that continue a log from the
-- same point conflict, as the primary key of parley_run_events did per event.
CREATE TABLE parley_run_event_chunks (
    run_id     varchar(80)  NOT NULL,
    first_seq  bigint       NOT NULL CHECK (first_seq >= 1),
    last_seq   bigint       NOT NULL,
    terminal   boolean      NOT NULL,
    packed     boolean      NOT NULL DEFAULT FALSE,
    events     bytea        NOT NULL,
    created_at timestamptz  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (run_id, last_seq),
    CHECK (last_seq >= first_seq)
);
CREATE UNIQUE INDEX parley_run_event_chunks_first ON parley_run_event_chunks (run_id, first_seq);
-- The finished logs not yet rewritten: what the compaction sweep looks for.
CREATE INDEX parley_run_event_chunks_loose ON parley_run_event_chunks (run_id) WHERE terminal AND NOT packed;

-- Logs removed by the retention: their runs answer /events with 410 events_expired.
ALTER TABLE parley_runs ADD COLUMN events_expired_at timestamptz;
-- The ended runs whose logs are still kept, oldest end first: what the retention looks for.
CREATE INDEX parley_runs_log_kept ON parley_runs (completed_at) WHERE events_expired_at IS NULL AND completed_at IS NOT NULL;
