-- The run event log in chunks: one row per flushed batch of a run's events while the run goes on
-- (first_seq..last_seq, the events as one JSON array), rewritten into deflated rows of up to 1,000
-- events each (packed) once the run's log is terminal. Reads are a keyset on (run_id, last_seq): the chunk holding seq N + 1 and
-- those after it. The unique (run_id, first_seq) makes two writers that continue a log from the
-- same point conflict, as the primary key of parley_run_events did per event.
CREATE TABLE parley_run_event_chunks (
    run_id     varchar(80)                 NOT NULL,
    first_seq  bigint                      NOT NULL,
    last_seq   bigint                      NOT NULL,
    terminal   boolean                     NOT NULL,
    packed     boolean                     DEFAULT FALSE NOT NULL,
    events     varbinary                   NOT NULL,
    created_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, last_seq),
    CHECK (first_seq >= 1 AND last_seq >= first_seq)
);
CREATE UNIQUE INDEX parley_run_event_chunks_first ON parley_run_event_chunks (run_id, first_seq);
-- The finished logs not yet rewritten (H2 has no partial index): terminal rows not packed.
CREATE INDEX parley_run_event_chunks_loose ON parley_run_event_chunks (terminal, packed);

-- Logs removed by the retention: their runs answer /events with 410 events_expired.
ALTER TABLE parley_runs ADD COLUMN events_expired_at timestamp(6) with time zone;
-- The ended runs whose logs are still kept, oldest end first: what the retention looks for.
CREATE INDEX parley_runs_log_kept ON parley_runs (events_expired_at, completed_at);
