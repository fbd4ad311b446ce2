-- Whether a run withholds from the model the agent's tools that require a person's approval (sent by a
-- client that cannot carry an approval, such as the OpenAI facade's Chat Completions), kept with the
-- run's instructions so that a queued start on any server withholds them too. Written with the
-- instructions, in the send transaction; false for the runs before this version.
ALTER TABLE parley_runs ADD COLUMN approval_tools_withheld boolean NOT NULL DEFAULT false;
