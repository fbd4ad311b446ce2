-- One row per user who started a run: a send locks its user's row for the rest of its transaction
-- before it counts the user's active runs, so that concurrent sends of one user, on any server,
-- check the limit of active runs one after the other and it holds exactly.
CREATE TABLE parley_user_run_locks (
    user_id character varying PRIMARY KEY
);
