package dev.parley.adapter.jdbc;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rewrites each finished run's event log into deflated chunks of up to {@link #PACKED_EVENTS}
 * events (one row for most answers; a bounded amount to inflate for a read at any seq), and moves rows of the previous
 * format ({@code parley_run_events}) into chunks. A run's rewrite is one small transaction that
 * locks only that run's chunks ({@code FOR UPDATE}): servers that try the same run take turns and
 * the second finds the work done; readers are never blocked (they see the loose chunks or the one
 * row, and read the same events from either).
 *
 * <p>The server that stores a run's terminal event rewrites its log right after the commit, on a
 * background thread of its own; a sweep every {@link #SWEEP_INTERVAL} catches the logs that a
 * stopped server left loose, and the rows of the previous format, a bounded batch at a time.
 */
final class EventLogCompaction implements AutoCloseable {
    static final Duration SWEEP_INTERVAL = Duration.ofMinutes(1);
    static final int SWEEP_BATCH = 200;
    static final int PACKED_EVENTS = 1000;
    private static final int MAX_QUEUED = 10_000;
    private static final Logger log = LoggerFactory.getLogger(EventLogCompaction.class);

    private final Db db;
    private final String chunks;
    private final String legacy;
    private final ThreadPoolExecutor worker;
    private final ScheduledThreadPoolExecutor sweeper;
    private volatile boolean legacyRowsLeft = true;

    EventLogCompaction(Db db) {
        this.db = db;
        this.chunks = db.table("parley_run_event_chunks");
        this.legacy = db.table("parley_run_events");
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(MAX_QUEUED), r -> {
            Thread t = new Thread(r, "parley-event-log-compaction");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.DiscardPolicy());
        this.sweeper = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-event-log-sweep");
            t.setDaemon(true);
            return t;
        });
        this.sweeper.setRemoveOnCancelPolicy(true);
    }

    /** Looks once whether rows of the previous format are left, and starts the periodic sweep. */
    void start() {
        try {
            lookForLegacyRows();
        } catch (RuntimeException e) {
            log.debug("could not look for event rows of the previous format; the sweep looks again: {}", e.toString());
        }
        long every = SWEEP_INTERVAL.toMillis();
        sweeper.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    /** Looks whether any row of the previous format is left. */
    void lookForLegacyRows() {
        legacyRowsLeft = db.call(h -> h.createQuery("SELECT run_id FROM " + legacy + " LIMIT 1").mapTo(String.class).findOne())
                .isPresent();
    }

    /** False once no row of the previous format is left, so that reads skip that table. */
    boolean legacyRowsLeft() {
        return legacyRowsLeft;
    }

    /** Rewrites the run's finished log soon, on the background thread (dropped when too many wait: the sweep gets it). */
    void soon(RunId runId) {
        try {
            worker.execute(() -> {
                try {
                    compact(runId);
                } catch (RuntimeException e) {
                    log.debug("rewriting the event log of {} failed; the sweep retries: {}", runId.value(), e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            // closed: the sweep of another server, or of the next start, gets it
        }
    }

    private record Chunk(long firstSeq, boolean terminal, boolean packed, byte[] events) {}

    /** Rewrites the run's log into packed chunks when it is finished and not yet packed; true when it did. */
    boolean compact(RunId runId) {
        return db.inTransaction(() -> db.call(h -> {
            if (db.dialect() == Dialect.POSTGRESQL) {
                // a rewrite adds no fact: one lost in a crash leaves the log loose, and the sweep does it again
                h.execute("SET LOCAL synchronous_commit TO OFF");
            } else {
                // the rows are locked, then read (H2 caches no SELECT ... FOR UPDATE)
                h.createUpdate(Dialect.lockingUpdate(chunks, "terminal", "run_id = :run")).bind("run", runId.value()).execute();
            }
            List<Chunk> rows = h.createQuery("SELECT first_seq, terminal, packed, events FROM " + chunks
                            + " WHERE run_id = :run ORDER BY run_id, last_seq" + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : ""))
                    .bind("run", runId.value())
                    .map((rs, ctx) -> new Chunk(rs.getLong("first_seq"), rs.getBoolean("terminal"), rs.getBoolean("packed"),
                            rs.getBytes("events")))
                    .list();
            if (rows.isEmpty() || !rows.get(rows.size() - 1).terminal() || rows.stream().allMatch(Chunk::packed)) {
                return false;
            }
            List<RunEvent> events = new ArrayList<>();
            for (Chunk row : rows) {
                events.addAll(EventChunks.decode(runId, row.firstSeq(), row.events()));
            }
            h.createUpdate("DELETE FROM " + chunks + " WHERE run_id = :run").bind("run", runId.value()).execute();
            for (int i = 0; i < events.size(); i += PACKED_EVENTS) {
                insert(h, runId, events.subList(i, Math.min(events.size(), i + PACKED_EVENTS)), true);
            }
            return true;
        }));
    }

    /** Moves the run's rows of the previous format into one chunk; true when there were any. */
    boolean convert(RunId runId) {
        Boolean ended = db.inTransaction(() -> db.call(h -> {
            List<RunEvent> events = h.createQuery("SELECT seq, type, payload FROM " + legacy
                            + " WHERE run_id = :run ORDER BY run_id, seq FOR UPDATE")
                    .bind("run", runId.value())
                    .map((rs, ctx) -> Json.event(runId, rs.getLong("seq"), rs.getString("type"), rs.getString("payload")))
                    .list();
            if (events.isEmpty()) {
                return null;
            }
            boolean terminal = events.get(events.size() - 1).isTerminal();
            insert(h, runId, events, false);
            h.createUpdate("DELETE FROM " + legacy + " WHERE run_id = :run").bind("run", runId.value()).execute();
            return terminal;
        }));
        return ended != null;
    }

    /** One chunk; {@code packed}: deflated, part of a finished log's rewrite. */
    private void insert(org.jdbi.v3.core.Handle h, RunId runId, List<RunEvent> events, boolean packed) {
        RunEvent last = events.get(events.size() - 1);
        h.createUpdate("INSERT INTO " + chunks + " (run_id, first_seq, last_seq, terminal, packed, events)"
                        + " VALUES (:run, :first, :last, :terminal, :packed, :events)")
                .bind("run", runId.value())
                .bind("first", events.get(0).seq())
                .bind("last", last.seq())
                .bind("terminal", last.isTerminal())
                .bind("packed", packed)
                .bind("events", EventChunks.encode(events, packed))
                .execute();
    }

    /**
     * One round of the sweep: rewrites up to {@link #SWEEP_BATCH} finished logs left loose and
     * converts up to as many runs' rows of the previous format. Returns how many runs it changed.
     */
    int sweep() {
        int changed = 0;
        List<String> loose = db.call(h -> h.createQuery("SELECT run_id FROM " + chunks
                + " WHERE terminal = TRUE AND packed = FALSE LIMIT :limit").bind("limit", SWEEP_BATCH).mapTo(String.class).list());
        for (String run : loose) {
            changed += compact(new RunId(run)) ? 1 : 0;
        }
        if (legacyRowsLeft) {
            List<String> old = db.call(h -> h.createQuery("SELECT DISTINCT run_id FROM " + legacy + " LIMIT :limit")
                    .bind("limit", SWEEP_BATCH).mapTo(String.class).list());
            for (String run : old) {
                RunId id = new RunId(run);
                convert(id);
                compact(id);
                changed++;
            }
            if (old.size() < SWEEP_BATCH) {
                lookForLegacyRows();
            }
        }
        return changed;
    }

    private void sweepQuietly() {
        try {
            int changed = sweep();
            if (changed > 0) {
                log.debug("event log sweep rewrote {} runs' logs", changed);
            }
        } catch (RuntimeException e) {
            log.debug("event log sweep failed; it runs again in {}: {}", SWEEP_INTERVAL, e.toString());
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        Background.stop(worker, 5);
    }
}
