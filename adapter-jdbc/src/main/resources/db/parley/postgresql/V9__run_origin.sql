-- Where each run came from: the id of the request that sent it (for the run's log lines) and the
-- W3C traceparent of the trace it was sent in (so that the run's spans on any server, also after a
-- pause or on the server that ends it, join or link to that trace). Both optional, at most 128 chars.
ALTER TABLE parley_runs ADD COLUMN origin_request_id varchar(128);
ALTER TABLE parley_runs ADD COLUMN origin_trace varchar(128);
