-- The model settings a run sends (the agent's, each overridden by the send's own: temperature,
-- max_output_tokens, reasoning_effort; null for the model's default), kept with the run so that a
-- queued run started by any server and a run resumed after approval send them too. continued_from:
-- the client's own id of the earlier answer the send continued (the OpenAI facade's
-- previous_response_id), or null. Written with the instructions, in the send transaction.
ALTER TABLE parley_runs ADD COLUMN temperature double precision;
ALTER TABLE parley_runs ADD COLUMN max_output_tokens integer;
ALTER TABLE parley_runs ADD COLUMN reasoning_effort varchar(16);
ALTER TABLE parley_runs ADD COLUMN continued_from varchar(128);
