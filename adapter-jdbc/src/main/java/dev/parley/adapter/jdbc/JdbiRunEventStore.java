package dev.parley.adapter.jdbc;

import dev.parley.chat.model.EventLogRules;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunEventStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The run event log in {@code parley_run_event_chunks}, keeping {@link EventLogRules}. Each append
 * writes one row per run: the batch's events as one chunk ({@link EventChunks}), so a caller that
 * buffers token events pays one row and one round trip per flush, not per token. Once a run's log
 * is terminal, {@link EventLogCompaction} rewrites it into deflated rows of up to 1,000 events (a log
 * written whole in one flush is written so at once). A
 * read is a keyset on (run_id, last_seq): the chunk that holds seq {@code after + 1}, then the ones
 * after it; it reads the same events from loose chunks and from the rewritten rows.
 *
 * <p>Rows of the previous format ({@code parley_run_events}, one per event) still replay: while any
 * are left, reads and appends also look there, and the compaction sweep moves them into chunks.
 * A seq already stored is a {@code duplicate} conflict: the check reads the row that ends just before
 * the batch (or the log's last row), and two writers that continue the log from the same point meet on
 * the unique (run_id, first_seq).
 */
final class JdbiRunEventStore implements RunEventStore {
    private static final Set<String> TERMINAL_TYPES = Set.of("done", "error", "cancelled");
    private final Db db;
    private final EventLogCompaction compaction;
    private final String insertChunk;
    final List<String> readChunks;
    final String lastChunk;
    private final String endingAt;
    private final String legacyRead;
    private final String legacyLast;
    private final String expiring;
    private final List<String> expire;
    private final String expiredAt;

    JdbiRunEventStore(Db db, EventLogCompaction compaction) {
        this.db = db;
        this.compaction = compaction;
        String chunks = db.table("parley_run_event_chunks");
        String legacy = db.table("parley_run_events");
        insertChunk = "INSERT INTO " + chunks + " (run_id, first_seq, last_seq, terminal, packed, events)"
                + " VALUES (:run, :first, :last, :terminal, :packed, :events)";
        // the chunks that end within (after, upto], and the one after them, which may hold upto: two
        // bounded index ranges, however long the log and however its events are chunked. One statement on
        // PostgreSQL; two on H2, which caches no UNION and would parse it again on every read
        String within = "SELECT first_seq, last_seq, events FROM " + chunks
                + " WHERE run_id = :run AND last_seq > :after AND last_seq <= :upto ORDER BY run_id, last_seq";
        String straddling = "SELECT first_seq, last_seq, events FROM " + chunks
                + " WHERE run_id = :run AND last_seq > :upto ORDER BY run_id, last_seq LIMIT 1";
        readChunks = db.dialect() == Dialect.POSTGRESQL
                ? List.of("SELECT first_seq, events FROM (" + within + ") within_range"
                        + " UNION ALL SELECT first_seq, events FROM (" + straddling + ") straddling")
                : List.of(within, straddling);
        endingAt = "SELECT terminal FROM " + chunks + " WHERE run_id = :run AND last_seq = :last";
        lastChunk = "SELECT last_seq, terminal FROM " + chunks + " WHERE run_id = :run ORDER BY run_id DESC, last_seq DESC LIMIT 1";
        legacyRead = "SELECT seq, type, payload FROM " + legacy + " WHERE run_id = :run AND seq > :after ORDER BY run_id, seq LIMIT :limit";
        legacyLast = "SELECT seq, type FROM " + legacy + " WHERE run_id = :run ORDER BY run_id DESC, seq DESC LIMIT 1";
        String runs = db.table("parley_runs");
        // runs still pending for the usage ledger's rows wait for it (a second at most while it runs)
        expiring = "SELECT id FROM " + runs + " WHERE events_expired_at IS NULL AND ledger_pending IS NULL AND completed_at IS NOT NULL"
                + " AND completed_at < :before ORDER BY events_expired_at, " + (db.dialect() == Dialect.H2 ? "ledger_pending, " : "")
                + "completed_at LIMIT :max"
                + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE");
        expire = List.of(
                "UPDATE " + runs + " SET events_expired_at = CURRENT_TIMESTAMP WHERE id = :run",
                "DELETE FROM " + chunks + " WHERE run_id = :run",
                "DELETE FROM " + legacy + " WHERE run_id = :run");
        expiredAt = "SELECT 1 FROM " + runs + " WHERE id = :run AND events_expired_at IS NOT NULL";
    }

    private record Last(long seq, boolean terminal) {
        static final Last NONE = new Last(0, false);
    }

    @Override
    public void append(List<RunEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        // each run's events in the batch follow one another by the rules; where they begin is checked below
        Map<RunId, List<RunEvent>> byRun = new LinkedHashMap<>();
        for (RunEvent e : events) {
            List<RunEvent> run = byRun.computeIfAbsent(e.runId(), id -> new ArrayList<>());
            if (!run.isEmpty()) {
                RunEvent before = run.get(run.size() - 1);
                EventLogRules.requireAppendable(before.seq(), before.isTerminal(), e);
            }
            run.add(e);
        }
        db.atomic(h -> {
            PreparedBatch batch = h.prepareBatch(insertChunk);
            for (List<RunEvent> run : byRun.values()) {
                RunEvent first = run.get(0);
                RunEvent last = run.get(run.size() - 1);
                Last stored = before(h, first);
                EventLogRules.requireAppendable(stored.seq(), stored.terminal(), first);
                boolean whole = whole(run);
                batch.bind("run", Args.text(first.runId().value()))
                        .bind("first", Args.int64(first.seq()))
                        .bind("last", Args.int64(last.seq()))
                        .bind("terminal", Args.bool(last.isTerminal()))
                        .bind("packed", Args.bool(whole))
                        .bind("events", Args.bytes(EventChunks.encode(run, whole)))
                        .add();
            }
            batch.execute();
            for (List<RunEvent> run : byRun.values()) {
                RunEvent last = run.get(run.size() - 1);
                db.hint(Db.Hint.EVENTS_STORED, last.runId().value());
                if (last.isTerminal() && !whole(run)) {
                    db.afterCommit(() -> compaction.soon(last.runId()));
                }
            }
            return null;
        });
    }

    /**
     * A run's whole log in one flush (from its first event to its terminal one, at most a packed row's
     * worth): written packed at once, so the rewrite that packs a finished log has nothing to do.
     */
    private static boolean whole(List<RunEvent> run) {
        return run.get(0).seq() == 1 && run.get(run.size() - 1).isTerminal() && run.size() <= EventLogCompaction.PACKED_EVENTS;
    }

    /**
     * Where the log stands before {@code first}, as far as appending it needs: nothing to read for a log's
     * first event (a log already begun has a row from seq 1, and the unique (run_id, first_seq) refuses
     * another), the row that ends just before it when there is one (a primary-key lookup), else the log's
     * last row (a gap or a seq already stored, which the rules then refuse).
     */
    private Last before(Handle h, RunEvent first) {
        if (compaction.legacyRowsLeft()) {
            return last(h, first.runId());
        }
        if (first.seq() == 1) {
            return Last.NONE;
        }
        return h.createQuery(endingAt).bind("run", Args.text(first.runId().value())).bind("last", Args.int64(first.seq() - 1))
                .map((rs, ctx) -> new Last(first.seq() - 1, rs.getBoolean("terminal"))).findOne()
                .orElseGet(() -> last(h, first.runId()));
    }

    /** The last stored seq of the run and whether it is terminal: one index probe. */
    private Last last(Handle h, RunId runId) {
        Optional<Last> chunk = h.createQuery(lastChunk).bind("run", runId.value())
                .map((rs, ctx) -> new Last(rs.getLong("last_seq"), rs.getBoolean("terminal"))).findOne();
        if (chunk.isPresent() || !compaction.legacyRowsLeft()) {
            return chunk.orElse(Last.NONE);
        }
        return h.createQuery(legacyLast).bind("run", runId.value())
                .map((rs, ctx) -> new Last(rs.getLong("seq"), TERMINAL_TYPES.contains(rs.getString("type")))).findOne()
                .orElse(Last.NONE);
    }

    @Override
    public List<RunEvent> read(RunId runId, long afterSeq, int max) {
        Require.that(max >= 1, "max must be at least 1");
        return db.call(h -> {
            List<RunEvent> found = new ArrayList<>();
            // events of the previous format come first: a log that has any began there
            if (compaction.legacyRowsLeft()) {
                found.addAll(h.createQuery(legacyRead).bind("run", runId.value()).bind("after", afterSeq).bind("limit", max)
                        .map((rs, ctx) -> Json.event(runId, rs.getLong("seq"), rs.getString("type"), rs.getString("payload")))
                        .list());
            }
            long after = found.isEmpty() ? afterSeq : found.get(found.size() - 1).seq();
            if (found.size() < max) {
                long upto = after + (max - found.size());
                List<Map.Entry<Long, byte[]>> rows = new ArrayList<>();
                for (String sql : readChunks) {
                    rows.addAll(h.createQuery(sql).bind("run", runId.value()).bind("after", after).bind("upto", upto)
                            .map((rs, ctx) -> Map.entry(rs.getLong("first_seq"), rs.getBytes("events"))).list());
                }
                rows.sort(Map.Entry.comparingByKey());
                // the events from after + 1 on without a gap: two statements may see a log on either side of its
                // rewrite (rows that overlap, or the first rewritten row starting past a loose row's end); what
                // they miss, the next read gets
                long next = after + 1;
                for (Map.Entry<Long, byte[]> row : rows) {
                    if (row.getKey() > next || next > upto) {
                        break;
                    }
                    for (RunEvent e : EventChunks.decode(runId, row.getKey(), row.getValue())) {
                        if (e.seq() == next && next <= upto) {
                            found.add(e);
                            next++;
                        }
                    }
                }
            }
            return found;
        });
    }

    @Override
    public long lastSeq(RunId runId) {
        return db.call(h -> last(h, runId).seq());
    }

    @Override
    public int expire(Instant endedBefore, int max) {
        Require.that(max >= 1, "max must be at least 1");
        return db.inTransaction(() -> db.call(h -> {
            List<String> ids = h.createQuery(expiring).bind("before", endedBefore).bind("max", max).mapTo(String.class).list();
            for (String sql : expire) {
                if (!ids.isEmpty()) {
                    PreparedBatch batch = h.prepareBatch(sql);
                    ids.forEach(id -> batch.bind("run", id).add());
                    batch.execute();
                }
            }
            return ids.size();
        }));
    }

    @Override
    public boolean expired(RunId runId) {
        return db.call(h -> h.createQuery(expiredAt).bind("run", runId.value()).mapTo(Integer.class).findOne()).isPresent();
    }
}
