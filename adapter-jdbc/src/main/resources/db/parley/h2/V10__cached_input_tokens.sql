-- Cached input tokens (see the PostgreSQL migration of the same version).
ALTER TABLE parley_runs ADD COLUMN cached_input_tokens bigint DEFAULT 0 NOT NULL;
ALTER TABLE parley_steps ADD COLUMN cached_input_tokens bigint DEFAULT 0 NOT NULL;
ALTER TABLE parley_messages ADD COLUMN cached_input_tokens bigint DEFAULT 0 NOT NULL;
ALTER TABLE parley_threads ADD COLUMN cached_input_tokens bigint DEFAULT 0 NOT NULL;
ALTER TABLE parley_usage_hourly ADD COLUMN cached_input_tokens bigint DEFAULT 0 NOT NULL;
ALTER TABLE parley_usage_thread_hourly ADD COLUMN cached_input_tokens bigint DEFAULT 0 NOT NULL;
