-- The conversation tree. Every message names its parent and lies on a branch: a run of messages,
-- one per depth (position), that starts at a fork. A branch row records the branch it forks from
-- and its chain: the branches from the root to it, each with the position where it takes over
-- ("msg_a@1 msg_c@4": positions 1-3 on msg_a's branch, 4 on msg_c's). A branch is named after
-- its first message. The thread's active path is the chain of its active leaf's branch, cut at the
-- leaf: each piece of it is an index range on (branch_id, position).
CREATE TABLE parley_branches (
    id             varchar(80)  PRIMARY KEY,
    thread_id      varchar(80)  NOT NULL REFERENCES parley_threads (id),
    parent_id      varchar(80),
    start_position bigint       NOT NULL,
    chain          text         NOT NULL
);
CREATE INDEX parley_branches_parent ON parley_branches (parent_id, start_position);
CREATE INDEX parley_branches_thread ON parley_branches (thread_id);

ALTER TABLE parley_messages ADD COLUMN parent_id varchar(80);
ALTER TABLE parley_messages ADD COLUMN branch_id varchar(80);
ALTER TABLE parley_messages ADD COLUMN thinking text;
ALTER TABLE parley_messages ADD COLUMN input_tokens bigint;
ALTER TABLE parley_messages ADD COLUMN output_tokens bigint;
ALTER TABLE parley_messages ADD COLUMN usage_estimated boolean;
ALTER TABLE parley_threads ADD COLUMN active_leaf_id varchar(80);

-- Until now every thread was one branch, named after its first message.
UPDATE parley_messages m SET
    branch_id = (SELECT f.id FROM parley_messages f WHERE f.thread_id = m.thread_id AND f.position = 1),
    parent_id = (SELECT p.id FROM parley_messages p WHERE p.thread_id = m.thread_id AND p.position = m.position - 1);
INSERT INTO parley_branches (id, thread_id, parent_id, start_position, chain)
    SELECT id, thread_id, NULL, 1, id || '@1' FROM parley_messages WHERE position = 1;
UPDATE parley_threads t SET active_leaf_id =
    (SELECT m.id FROM parley_messages m WHERE m.thread_id = t.id AND m.position = t.message_count);

ALTER TABLE parley_messages ALTER COLUMN branch_id SET NOT NULL;
ALTER TABLE parley_messages DROP CONSTRAINT parley_messages_thread_position;
CREATE UNIQUE INDEX parley_messages_branch_position ON parley_messages (branch_id, position);
-- Versions (siblings of a parent, oldest first) and the thread's messages (for a hard delete).
CREATE INDEX parley_messages_siblings ON parley_messages (thread_id, parent_id, created_at, id);
