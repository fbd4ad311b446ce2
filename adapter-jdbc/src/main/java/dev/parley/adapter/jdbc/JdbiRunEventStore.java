package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunEventStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The run event log in {@code parley_run_events}, keyed by (run_id, seq); the key turns a seq written
 * twice into a {@code duplicate} conflict, and a batch that would follow a run's terminal event is a
 * {@code run_ended} conflict. Every batch is hinted ({@link Db#hint}) per run. A batch is written in one
 * transaction as one statement on PostgreSQL (an insert from arrays) and as one JDBC batch on H2, so a
 * caller that buffers token events pays one round trip per flush, not one per token.
 */
final class JdbiRunEventStore implements RunEventStore {
    private static final Set<String> TERMINAL_TYPES = Set.of("done", "error", "cancelled");
    private final Db db;
    private final String insert;
    final String read;
    final String lastSeq;
    final String typeAt;

    JdbiRunEventStore(Db db) {
        this.db = db;
        String events = db.table("parley_run_events");
        insert = db.dialect() == Dialect.POSTGRESQL
                // one statement for any batch: a multi-row insert from arrays, parsed and planned once
                ? "INSERT INTO " + events + " (run_id, seq, type, payload) SELECT r, s, t, CAST(p AS jsonb)"
                        + " FROM unnest(:runs, :seqs, :types, :payloads) AS e(r, s, t, p)"
                : "INSERT INTO " + events + " (run_id, seq, type, payload) VALUES (:run, :seq, :type, "
                        + db.dialect().json("payload") + ")";
        read = "SELECT seq, type, payload FROM " + events + " WHERE run_id = :run AND seq > :after ORDER BY run_id, seq LIMIT :limit";
        // not MAX(seq), which H2 answers by scanning the run's log
        lastSeq = "SELECT seq FROM " + events + " WHERE run_id = :run ORDER BY run_id DESC, seq DESC LIMIT 1";
        typeAt = "SELECT type FROM " + events + " WHERE run_id = :run AND seq = :seq";
    }

    @Override
    public void append(List<RunEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        List<RunEvent> stored = List.copyOf(events);
        for (RunEvent e : stored) {
            Require.that(e.isReplayable(), "heartbeats are never stored");
        }
        Map<RunId, Long> firstSeq = new LinkedHashMap<>();
        Map<RunId, Long> expectNext = new LinkedHashMap<>();
        Map<RunId, Boolean> ended = new LinkedHashMap<>();
        for (RunEvent e : stored) {
            Long next = expectNext.get(e.runId());
            if (next != null && e.seq() != next) {
                throw new IllegalArgumentException("events of run " + e.runId() + " must have consecutive seqs: expected "
                        + next + ", got " + e.seq());
            }
            if (Boolean.TRUE.equals(ended.get(e.runId()))) {
                throw runEnded(e.runId());
            }
            firstSeq.putIfAbsent(e.runId(), e.seq());
            expectNext.put(e.runId(), e.seq() + 1);
            ended.put(e.runId(), e.isTerminal());
        }
        db.atomic(h -> {
            // a point lookup: its cost does not grow with the log
            for (Map.Entry<RunId, Long> first : firstSeq.entrySet()) {
                long previous = first.getValue() - 1;
                if (previous == 0) {
                    continue;
                }
                Optional<String> type = h.createQuery(typeAt).bind("run", first.getKey().value()).bind("seq", previous)
                        .mapTo(String.class).findOne();
                if (type.isEmpty()) {
                    throw new IllegalArgumentException("events of run " + first.getKey() + " must continue its log, got seq "
                            + first.getValue() + " where seq " + previous + " is missing");
                }
                if (TERMINAL_TYPES.contains(type.get())) {
                    throw runEnded(first.getKey());
                }
            }
            // a seq already stored (a retry, or a racing writer) fails on the primary key: duplicate
            if (db.dialect() == Dialect.POSTGRESQL) {
                String[] runs = new String[stored.size()];
                long[] seqs = new long[stored.size()];
                String[] types = new String[stored.size()];
                String[] payloads = new String[stored.size()];
                for (int i = 0; i < stored.size(); i++) {
                    RunEvent e = stored.get(i);
                    runs[i] = e.runId().value();
                    seqs[i] = e.seq();
                    types[i] = e.type();
                    payloads[i] = Json.eventPayload(e);
                }
                h.createUpdate(insert).bind("runs", runs).bind("seqs", seqs).bind("types", types).bind("payloads", payloads)
                        .execute();
            } else {
                PreparedBatch batch = h.prepareBatch(insert);
                for (RunEvent e : stored) {
                    batch.bind("run", e.runId().value())
                            .bind("seq", e.seq())
                            .bind("type", e.type())
                            .bind("payload", Json.eventPayload(e))
                            .add();
                }
                batch.execute();
            }
            for (RunId runId : firstSeq.keySet()) {
                db.hint(Db.Hint.EVENTS_STORED, runId.value());
            }
            return null;
        });
    }

    private static ConflictException runEnded(RunId runId) {
        return ConflictException.runEnded(runId);
    }

    @Override
    public List<RunEvent> read(RunId runId, long afterSeq, int max) {
        Require.that(max >= 1, "max must be at least 1");
        return db.call(h -> h.createQuery(read)
                .bind("run", runId.value())
                .bind("after", afterSeq)
                .bind("limit", max)
                .map((rs, ctx) -> Json.event(runId, rs.getLong("seq"), rs.getString("type"), rs.getString("payload")))
                .list());
    }

    @Override
    public long lastSeq(RunId runId) {
        return db.call(h -> h.createQuery(lastSeq).bind("run", runId.value()).mapTo(Long.class).findOne().orElse(0L));
    }
}
