-- The model settings a run sends and the answer it continued (see the PostgreSQL migration of the same version).
ALTER TABLE parley_runs ADD COLUMN temperature double precision;
ALTER TABLE parley_runs ADD COLUMN max_output_tokens integer;
ALTER TABLE parley_runs ADD COLUMN reasoning_effort varchar(16);
ALTER TABLE parley_runs ADD COLUMN continued_from varchar(128);
