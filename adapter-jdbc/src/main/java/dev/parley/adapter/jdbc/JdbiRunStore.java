package dev.parley.adapter.jdbc;

import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.RunOrigin;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.RunStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Runs in {@code parley_runs} (their steps are kept by {@link JdbiRunSteps}). The database enforces one
 * in-progress run per thread (a partial unique index on PostgreSQL, a unique generated column on H2);
 * {@link #update} is a compare-and-set on the stored status. A run in progress started by
 * {@link #start} carries its owner and lease in {@code owner_id} and {@code lease_expires_at}. Every
 * change that ends a run is hinted through {@link Db#hint}. Rows are bound and read by {@link RunRows};
 * what a run records beside its state (instructions, origin) is kept by {@link JdbiRunRecords}.
 */
final class JdbiRunStore implements RunStore {
    private static final String COLUMNS = RunRows.COLUMNS;
    /** What a read returns: the written columns and the agent version {@link #recordInstructions} set. */
    private static final String READ_COLUMNS = COLUMNS + ", agent_version";
    private static final String STEP_COLUMNS = RunRows.STEP_COLUMNS;
    private static final String CURSOR_KIND = "r1";
    private static final String ACTIVE = "('queued', 'in_progress', 'requires_action')";

    private final Db db;
    private final JdbiUsageStore ledger;
    private final JdbiRunRecords records;
    private final JdbiRunSteps steps;
    private final String insert;
    private final String insertStarted;
    private final String insertRecorded;
    private final String insertStartedRecorded;
    /** PostgreSQL: {@link #insertStartedRecorded} and the first step (its parameters after {@link RunRows#STEP_PREFIX}); null on H2. */
    private final String insertStartedWithStep;
    private final String find;
    private final String update;
    private final String start;
    private final String renewLease;
    private final String leaseExpiresAt;
    final String expiredLeases;
    private final String updateIfLeaseExpired;
    /** PostgreSQL with a ledger: {@link #update} and {@link #updateIfLeaseExpired} of a run's end with its usage; else null. */
    private final String updateEnding;
    private final String updateIfLeaseExpiredEnding;
    /** {@link #update} and {@link #updateIfLeaseExpired} of a run's end that leaves it pending for the ledger's rows. */
    private final String updatePending;
    private final String updateIfLeaseExpiredPending;
    /** With a ledger: a run's end whose thread's totals its answer's append counted; else null. */
    private final JdbiRunEnds ends;
    final String active;
    final String page;
    final String pageAfter;
    final String withStatus;
    private final String pause;
    private final String resume;
    final String decisionsDue;
    private final String lockUser;
    private final String insertUserLock;
    final String countActiveOfUser;
    private final String countWithStatus;
    final String startable;

    /** {@code ledger} null: the store keeps no usage (see {@link JdbcChatStores.Builder#usageLedger}). */
    JdbiRunStore(Db db, JdbiUsageStore ledger) {
        this.db = db;
        this.ledger = ledger;
        this.records = new JdbiRunRecords(db);
        this.steps = new JdbiRunSteps(db);
        String runs = db.table("parley_runs");
        String stepTable = db.table("parley_steps");
        insert = "INSERT INTO " + runs + " (" + COLUMNS + ") VALUES (" + RunRows.VALUES + ")";
        insertStarted = "INSERT INTO " + runs + " (" + COLUMNS + ", owner_id, lease_expires_at) VALUES (" + RunRows.VALUES
                + ", :owner, :lease)";
        insertRecorded = "INSERT INTO " + runs + " (" + COLUMNS + ", " + JdbiRunRecords.RECORD_COLUMNS + ") VALUES ("
                + RunRows.VALUES + ", " + JdbiRunRecords.RECORD_VALUES + ")";
        insertStartedRecorded = "INSERT INTO " + runs + " (" + COLUMNS + ", owner_id, lease_expires_at, " + JdbiRunRecords.RECORD_COLUMNS
                + ") VALUES (" + RunRows.VALUES + ", :owner, :lease, " + JdbiRunRecords.RECORD_VALUES + ")";
        insertStartedWithStep = db.dialect() != Dialect.POSTGRESQL ? null
                : "WITH r AS (" + insertStartedRecorded + ") INSERT INTO " + stepTable + " (" + STEP_COLUMNS + ") VALUES ("
                        + RunRows.stepParameters(RunRows.STEP_VALUES) + ")";
        String threads = db.table("parley_threads");
        String select = "SELECT " + READ_COLUMNS + " FROM " + runs;
        // runs of a soft-deleted thread are hidden with it
        String liveThread = " AND EXISTS (SELECT 1 FROM " + threads + " t WHERE t.id = :thread AND t.deleted_at IS NULL)";
        String liveRow = " AND EXISTS (SELECT 1 FROM " + threads + " t WHERE t.id = r.thread_id AND t.deleted_at IS NULL)";
        find = select + " r WHERE r.id = :id" + liveRow;
        update = "UPDATE " + runs + " SET " + RunRows.ASSIGNMENTS + " WHERE id = :id AND thread_id = :thread AND status = :expected";
        start = update.replace(" WHERE ", ", owner_id = :owner, lease_expires_at = :lease WHERE ");
        pause = update.replace(" WHERE ", ", owner_id = NULL, lease_expires_at = NULL, decide_by = :decide_by WHERE ");
        resume = update.replace(" WHERE ", ", owner_id = :owner, lease_expires_at = :lease, decide_by = NULL WHERE ");
        decisionsDue = select + " r WHERE status = 'requires_action' AND decide_by <= :now" + liveRow
                + " ORDER BY decide_by, created_at, id LIMIT :limit";
        updateIfLeaseExpired = update + " AND (lease_expires_at IS NULL OR lease_expires_at <= :now)";
        // with the ledger, a run's end leaves it pending for the ledger's hourly rows (UsageFolding)
        String pending = ", ledger_pending = TRUE WHERE ";
        boolean oneStatement = ledger != null && db.dialect() == Dialect.POSTGRESQL;
        updatePending = update.replace(" WHERE ", pending);
        updateIfLeaseExpiredPending = updateIfLeaseExpired.replace(" WHERE ", pending);
        updateEnding = oneStatement ? ledger.pgEnding(updatePending) : null;
        ends = ledger == null ? null : new JdbiRunEnds(db, steps, updatePending);
        updateIfLeaseExpiredEnding = oneStatement ? ledger.pgEnding(updateIfLeaseExpiredPending) : null;
        renewLease = "UPDATE " + runs + " SET lease_expires_at = :lease"
                + " WHERE id = :id AND status = 'in_progress' AND owner_id = :owner";
        leaseExpiresAt = "SELECT lease_expires_at FROM " + runs + " WHERE id = :id AND lease_expires_at IS NOT NULL";
        expiredLeases = select + " r WHERE status = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at <= :now)"
                + liveRow + " ORDER BY lease_expires_at NULLS FIRST, created_at, id LIMIT :limit";
        active = select + " WHERE thread_id = :thread AND status IN " + ACTIVE + liveThread + " ORDER BY thread_id, created_at, id";
        String newestFirst = " ORDER BY thread_id, created_at DESC, id DESC LIMIT :limit";
        String byRecency = "SELECT " + READ_COLUMNS + " FROM " + runs + db.dialect().useIndex("parley_runs_thread_recent");
        page = byRecency + " WHERE thread_id = :thread" + liveThread + newestFirst;
        pageAfter = byRecency + " WHERE thread_id = :thread AND created_at <= :after_at"
                + " AND (created_at < :after_at OR id < :after_id)" + liveThread + newestFirst;
        withStatus = select + " r WHERE status = :status" + liveRow + " ORDER BY status, created_at, id LIMIT :limit";
        String userLocks = db.table("parley_user_run_locks");
        // H2 only (caching no SELECT ... FOR UPDATE, it would parse one on every send): an UPDATE that changes
        // nothing locks the user's row, and answers 0 when there is none yet
        lockUser = Dialect.lockingUpdate(userLocks, "user_id", "user_id = :user");
        // PostgreSQL: one statement that inserts the row or locks the existing one
        insertUserLock = db.dialect() == Dialect.POSTGRESQL
                ? "INSERT INTO " + userLocks + " (user_id) VALUES (:user) ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id"
                : "INSERT INTO " + userLocks + " (user_id) VALUES (:user)";
        countActiveOfUser = "SELECT COUNT(*) FROM " + runs + " r JOIN " + threads + " t ON t.id = r.thread_id"
                + " WHERE t.owner_id = :user AND t.deleted_at IS NULL AND r.status IN " + ACTIVE;
        startable = select + " r WHERE status = 'queued'" + liveRow + " AND NOT EXISTS (SELECT 1 FROM " + runs + " o"
                + " WHERE o.thread_id = r.thread_id AND o.status IN ('in_progress', 'requires_action'))"
                + " AND NOT EXISTS (SELECT 1 FROM " + runs + " e WHERE e.thread_id = r.thread_id AND e.status = 'queued'"
                + " AND (e.created_at < r.created_at OR (e.created_at = r.created_at AND e.id < r.id)))"
                + " ORDER BY status, created_at, id LIMIT :limit";
        countWithStatus = "SELECT COUNT(*) FROM " + runs + " r WHERE status = :status" + liveRow;
    }

    @Override
    public int lockActiveRunsOf(String userId) {
        Require.notBlank(userId, "userId");
        String user = Text.put(userId);
        if (db.dialect() == Dialect.POSTGRESQL) {
            db.call(h -> h.createUpdate(insertUserLock).bind("user", user).execute());
        } else if (db.call(h -> h.createUpdate(lockUser).bind("user", user).execute()) == 0) {
            try {
                db.call(h -> h.createUpdate(insertUserLock).bind("user", user).execute());
            } catch (dev.parley.chat.model.ConflictException e) {
                // a concurrent first send of the user inserted it (and committed): lock theirs
                db.call(h -> h.createUpdate(lockUser).bind("user", user).execute());
            }
        }
        return db.call(h -> h.createQuery(countActiveOfUser).bind("user", user).mapTo(Integer.class).one());
    }

    @Override
    public List<Run> startable(int max) {
        Require.that(max >= 0, "max must not be negative");
        if (max == 0) {
            return List.of();
        }
        return db.call(h -> h.createQuery(startable).bind("limit", max).map((rs, ctx) -> RunRows.run(rs)).list());
    }

    @Override
    public long count(RunStatus status) {
        return db.call(h -> h.createQuery(countWithStatus).bind("status", status.wireName()).mapTo(Long.class).one());
    }

    @Override
    public void insert(Run run) {
        try {
            db.call(h -> RunRows.bindRun(h.createUpdate(insert), run).execute());
        } catch (NotFoundException e) {
            throw NotFoundException.thread(run.threadId());
        }
    }

    /** The run and its record in one INSERT (no UPDATE of the row just written). */
    @Override
    public void insert(Run run, RunInstructions instructions, RunOrigin origin) {
        try {
            db.call(h -> JdbiRunRecords.bindRecord(RunRows.bindRun(h.createUpdate(insertRecorded), run), instructions, origin).execute());
        } catch (NotFoundException e) {
            throw NotFoundException.thread(run.threadId());
        }
    }

    @Override
    public void insertStarted(Run started, String owner, Instant leaseExpiresAt) {
        insertStarted(started, owner, leaseExpiresAt, insertStarted, null, null, null);
    }

    /** The started run and its record in one INSERT (no UPDATE of the row just written). */
    @Override
    public void insertStarted(Run started, String owner, Instant leaseExpiresAt, RunInstructions instructions, RunOrigin origin) {
        Require.notNull(instructions, "instructions");
        Require.notNull(origin, "origin");
        insertStarted(started, owner, leaseExpiresAt, insertStartedRecorded, instructions, origin, null);
    }

    /** On PostgreSQL the run, its record and its first step in one statement. */
    @Override
    public void insertStarted(Run started, String owner, Instant leaseExpiresAt, RunInstructions instructions, RunOrigin origin,
                              Step firstStep) {
        if (insertStartedWithStep == null) {
            RunStore.super.insertStarted(started, owner, leaseExpiresAt, instructions, origin, firstStep);
            return;
        }
        Require.notNull(instructions, "instructions");
        Require.notNull(origin, "origin");
        Require.that(firstStep.runId().equals(started.id()), "the first step belongs to another run");
        insertStarted(started, owner, leaseExpiresAt, insertStartedWithStep, instructions, origin, firstStep);
    }

    private void insertStarted(Run started, String owner, Instant leaseExpiresAt, String sql, RunInstructions instructions,
                               RunOrigin origin, Step firstStep) {
        Require.that(started.status() == RunStatus.IN_PROGRESS, "insertStarted stores a run in progress");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        try {
            db.call(h -> {
                var statement = RunRows.bindRun(h.createUpdate(sql), started)
                        .bind("owner", Args.text(Text.put(owner)))
                        .bind("lease", Args.time(leaseExpiresAt));
                if (instructions != null) {
                    JdbiRunRecords.bindRecord(statement, instructions, origin);
                }
                if (firstStep != null) {
                    RunRows.bindStep(statement, firstStep, RunRows.STEP_PREFIX);
                }
                return changed(started, statement.execute());
            });
        } catch (NotFoundException e) {
            throw NotFoundException.thread(started.threadId());
        }
    }

    @Override
    public Optional<Run> find(RunId id) {
        return db.call(h -> h.createQuery(find).bind("id", id.value()).map((rs, ctx) -> RunRows.run(rs)).findOne());
    }

    @Override
    public boolean update(Run run, RunStatus expected) {
        Require.notNull(expected, "expected");
        return ended(run, update, updatePending, updateEnding, s -> s.bind("expected", Args.text(expected.wireName())));
    }

    /**
     * Runs {@code sql}, the statement that changes the run (its own values bound, then {@code extra});
     * when it ends the run ({@code pending}: the same, leaving the run pending for the ledger's rows),
     * together with the run's usage added to its thread's totals: in one statement ({@code ending}) on
     * PostgreSQL, in one transaction elsewhere.
     */
    private boolean ended(Run run, String sql, String pending, String ending, Consumer<SqlStatement<?>> extra) {
        if (!run.isTerminal() || ledger == null) {
            return db.call(h -> change(h, sql, run, false, extra));
        }
        if (ending != null) {
            return db.call(h -> change(h, ending, run, true, extra));
        }
        return db.atomic(h -> {
            boolean changed = change(h, pending, run, false, extra);
            if (changed) {
                ledger.record(h, run);
            }
            return changed;
        });
    }

    /** Runs {@code sql} for {@code run} (with what it adds to its thread's totals when {@code threadTotals}); whether it changed it. */
    private boolean change(Handle h, String sql, Run run, boolean threadTotals, Consumer<SqlStatement<?>> extra) {
        var statement = RunRows.bindRun(h.createUpdate(sql), run);
        if (threadTotals) {
            JdbiUsageStore.bindThreadTotals(statement, run);
        }
        extra.accept(statement);
        return changed(run, statement.execute());
    }

    @Override
    public boolean start(Run started, String owner, Instant leaseExpiresAt) {
        Require.that(started.status() == RunStatus.IN_PROGRESS, "start moves a run to in_progress");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        return claim(start, started, RunStatus.QUEUED, owner, leaseExpiresAt);
    }

    /** {@code sql} (a compare-and-set from {@code expected}) puts {@code run} in progress under {@code owner}'s lease. */
    private boolean claim(String sql, Run run, RunStatus expected, String owner, Instant leaseExpiresAt) {
        return db.call(h -> changed(run, RunRows.bindRun(h.createUpdate(sql), run)
                .bind("expected", Args.text(expected.wireName()))
                .bind("owner", Args.text(Text.put(owner)))
                .bind("lease", Args.time(leaseExpiresAt))
                .execute()));
    }

    @Override
    public boolean renewLease(RunId id, String owner, Instant leaseExpiresAt) {
        Require.notNull(id, "id");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        return db.call(h -> h.createUpdate(renewLease)
                .bind("id", Args.text(id.value()))
                .bind("owner", Args.text(Text.put(owner)))
                .bind("lease", Args.time(leaseExpiresAt))
                .execute()) == 1;
    }

    @Override
    public Optional<Instant> leaseExpiresAt(RunId id) {
        Require.notNull(id, "id");
        return db.call(h -> h.createQuery(leaseExpiresAt).bind("id", id.value()).mapTo(Instant.class).findOne());
    }

    @Override
    public List<Run> expiredLeases(Instant now, int max) {
        Require.notNull(now, "now");
        Require.that(max >= 0, "max must not be negative");
        if (max == 0) {
            return List.of();
        }
        return db.call(h -> h.createQuery(expiredLeases).bindByType("now", now, Instant.class).bind("limit", max)
                .map((rs, ctx) -> RunRows.run(rs)).list());
    }

    @Override
    public boolean updateIfLeaseExpired(Run run, Instant now) {
        Require.notNull(now, "now");
        return ended(run, updateIfLeaseExpired, updateIfLeaseExpiredPending, updateIfLeaseExpiredEnding,
                s -> s.bind("expected", RunStatus.IN_PROGRESS.wireName()).bindByType("now", now, Instant.class));
    }

    @Override
    public boolean pause(Run waiting, Instant decideBy) {
        Require.that(waiting.status() == RunStatus.REQUIRES_ACTION, "pause moves a run to requires_action");
        Require.notNull(decideBy, "decideBy");
        return db.call(h -> changed(waiting, RunRows.bindRun(h.createUpdate(pause), waiting)
                .bind("expected", RunStatus.IN_PROGRESS.wireName())
                .bindByType("decide_by", decideBy, Instant.class)
                .execute()));
    }

    @Override
    public boolean resume(Run resumed, String owner, Instant leaseExpiresAt) {
        Require.that(resumed.status() == RunStatus.IN_PROGRESS, "resume moves a run to in_progress");
        Require.notBlank(owner, "owner");
        Require.notNull(leaseExpiresAt, "leaseExpiresAt");
        return claim(resume, resumed, RunStatus.REQUIRES_ACTION, owner, leaseExpiresAt);
    }

    @Override
    public boolean expediteDecision(RunId id, Instant decideBy) {
        Require.notNull(decideBy, "decideBy");
        return db.call(h -> h.createUpdate("UPDATE " + db.table("parley_runs") + " SET decide_by = :decide_by"
                        + " WHERE id = :id AND status = 'requires_action'")
                .bind("id", id.value())
                .bindByType("decide_by", decideBy, Instant.class)
                .execute()) == 1;
    }

    @Override
    public List<Run> decisionsDue(Instant now, int max) {
        Require.notNull(now, "now");
        Require.that(max >= 0, "max must not be negative");
        if (max == 0) {
            return List.of();
        }
        return db.call(h -> h.createQuery(decisionsDue).bindByType("now", now, Instant.class).bind("limit", max)
                .map((rs, ctx) -> RunRows.run(rs)).list());
    }

    /** True when the statement changed the run's row; a change that ended the run is hinted. */
    private boolean changed(Run run, int rows) {
        return RunRows.changed(db, run, rows == 1);
    }

    @Override
    public List<Run> active(ThreadId threadId) {
        return db.call(h -> h.createQuery(active).bind("thread", Args.text(threadId.value())).map((rs, ctx) -> RunRows.run(rs)).list());
    }

    @Override
    public Page<Run> page(ThreadId threadId, PageRequest request) {
        Cursors.TimeKey after = request.cursor() == null ? null : Cursors.time(CURSOR_KIND, request.cursor(), RunId.PREFIX);
        List<Run> rows = db.call(h -> {
            var q = h.createQuery(after == null ? page : pageAfter)
                    .bind("thread", threadId.value())
                    .bind("limit", request.limit() + 1);
            if (after != null) {
                q.bind("after_at", after.at()).bind("after_id", after.id());
            }
            return q.map((rs, ctx) -> RunRows.run(rs)).list();
        });
        if (rows.size() <= request.limit()) {
            return Page.last(rows);
        }
        List<Run> items = rows.subList(0, request.limit());
        Run last = items.get(items.size() - 1);
        return new Page<>(items, true, Cursors.time(CURSOR_KIND, last.createdAt(), last.id().value()));
    }

    @Override
    public List<Run> withStatus(RunStatus status, int max) {
        Require.that(max >= 0, "max must not be negative");
        if (max == 0) {
            return List.of();
        }
        return db.call(h -> h.createQuery(withStatus).bind("status", status.wireName()).bind("limit", max)
                .map((rs, ctx) -> RunRows.run(rs)).list());
    }

    /** With a ledger: the end of a run whose answer's append counted it in its thread's totals; else null. */
    JdbiRunEnds ends() {
        return ends;
    }

    @Override
    public void insertStep(Step step) {
        steps.insertStep(step);
    }

    @Override
    public void updateStep(Step step) {
        steps.updateStep(step);
    }

    @Override
    public boolean updateStep(Step step, StepStatus expected) {
        return steps.updateStep(step, expected);
    }

    @Override
    public List<Step> steps(RunId runId) {
        return steps.steps(runId);
    }

    @Override
    public void recordInstructions(RunId id, RunInstructions instructions) {
        records.recordInstructions(id, instructions);
    }

    @Override
    public Optional<RunInstructions> instructions(RunId id) {
        return records.instructions(id);
    }

    @Override
    public void recordOrigin(RunId id, RunOrigin origin) {
        records.recordOrigin(id, origin);
    }

    @Override
    public void recordRun(RunId id, RunInstructions instructions, RunOrigin origin) {
        records.recordRun(id, instructions, origin);
    }

    @Override
    public RunOrigin origin(RunId id) {
        return records.origin(id);
    }
}
