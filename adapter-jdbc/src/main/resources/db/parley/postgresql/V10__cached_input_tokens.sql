-- Cached input tokens: the part of a model turn's input tokens that the model read from its prompt
-- cache (OpenAI's usage.prompt_tokens_details.cached_tokens). They are counted in input_tokens too
-- and priced apart. Kept wherever usage is: runs, steps, assistant messages, the thread totals and
-- both hourly ledgers. Rows from before this migration had none.
ALTER TABLE parley_runs ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE parley_steps ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE parley_messages ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE parley_threads ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE parley_usage_hourly ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE parley_usage_thread_hourly ADD COLUMN cached_input_tokens bigint NOT NULL DEFAULT 0;
