-- Whether a run withholds the tools that require approval (see the PostgreSQL migration of the same version).
ALTER TABLE parley_runs ADD COLUMN approval_tools_withheld boolean NOT NULL DEFAULT false;
