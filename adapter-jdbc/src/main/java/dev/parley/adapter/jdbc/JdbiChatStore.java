package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.port.out.AgentStore;
import dev.parley.chat.port.out.IdempotencyStore;
import dev.parley.chat.port.out.JobLeases;
import dev.parley.chat.port.out.UsageStore;
import dev.parley.chat.port.out.MessageStore;
import dev.parley.chat.port.out.RunEventStore;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.port.out.RunStore;
import dev.parley.chat.port.out.ServerLiveness;
import dev.parley.chat.port.out.ThreadStore;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The stores over one {@link Db}, their signals, the liveness of the servers sharing them (on
 * PostgreSQL), and the pool to close with them (null when the caller owns it).
 */
final class JdbiChatStore implements JdbcChatStore {
    private static final int PING_TIMEOUT_SECONDS = 2;

    private final Db db;
    private final AutoCloseable ownedPool;
    private final RunSignals signals;
    private final AutoCloseable closeSignals;
    private final ThreadStore threads;
    private final JdbiMessageStore messages;
    private final JdbiRunStore runs;
    private final RunEventStore events;
    private final IdempotencyStore idempotency;
    private final AgentStore agents;
    private final EventLogCompaction compaction;
    private final JdbiUsageStore usage;
    private final boolean keepUsage;
    /** Moves runs pending for the ledger into its hourly rows; null without the ledger. */
    private final UsageFolding folding;
    private final JobLeases leases;
    /** Null where the database cannot tell (H2). */
    private final PgServerLiveness liveness;

    JdbiChatStore(Db db, AutoCloseable ownedPool, RunSignals signals, AutoCloseable closeSignals, PgServerLiveness liveness,
                  boolean keepUsage) {
        this.db = db;
        this.ownedPool = ownedPool;
        this.signals = signals;
        this.closeSignals = closeSignals;
        this.liveness = liveness;
        this.folding = keepUsage ? new UsageFolding(db) : null;
        this.threads = new JdbiThreadStore(db, folding);
        this.messages = new JdbiMessageStore(db, folding);
        this.usage = new JdbiUsageStore(db);
        this.runs = new JdbiRunStore(db, keepUsage ? usage : null);
        this.keepUsage = keepUsage;
        this.leases = new JdbiJobLeases(db);
        this.compaction = new EventLogCompaction(db);
        this.events = new JdbiRunEventStore(db, compaction);
        compaction.start();
        if (folding != null) {
            folding.start();
        }
        this.idempotency = new JdbiIdempotencyStore(db);
        this.agents = new JdbiAgentStore(db);
    }

    /** The folding of pending runs into the ledger's rows (null without the ledger), for tests of this package. */
    UsageFolding folding() {
        return folding;
    }

    /** The rewriting of finished logs, for tests and benchmarks of this package. */
    EventLogCompaction compaction() {
        return compaction;
    }

    @Override
    public ThreadStore threads() {
        return threads;
    }

    @Override
    public MessageStore messages() {
        return messages;
    }

    @Override
    public RunStore runs() {
        return runs;
    }

    @Override
    public RunEventStore events() {
        return events;
    }

    @Override
    public IdempotencyStore idempotency() {
        return idempotency;
    }

    @Override
    public AgentStore agents() {
        return agents;
    }

    @Override
    public UsageStore usage() {
        return keepUsage ? usage : UsageStore.none();
    }

    @Override
    public JobLeases leases() {
        return leases;
    }

    @Override
    public ServerLiveness liveness() {
        return liveness != null ? liveness : ServerLiveness.none();
    }

    @Override
    public RunSignals signals() {
        return signals;
    }

    @Override
    public <T> T inTransaction(Supplier<T> work) {
        return db.inTransaction(work);
    }

    /**
     * With the ledger, the answer's append adds the run to its thread's totals in the update of the
     * thread's row it makes anyway, and the run's end marks it pending for the ledger's hourly rows
     * ({@link UsageFolding} moves it there outside the turn): nothing written for the ledger beyond
     * the rows the turn changes anyway.
     */
    @Override
    public Message completeRun(Message answer, Step turnEnd, Run completed, RunStatus expected) {
        if (!keepUsage) {
            return JdbcChatStore.super.completeRun(answer, turnEnd, completed, expected);
        }
        Require.that(completed.isTerminal(), "completeRun ends the run");
        return db.inTransaction(() -> {
            Message stored = messages.appendCounting(answer, completed);
            if (!runs.ends().end(turnEnd, completed, expected)) {
                throw ConflictException.runNotIn(completed.id(), expected);
            }
            return stored;
        });
    }

    /**
     * With the ledger, the run's compare-and-set answers whether a queued run waits on the thread, in the same
     * statement (the append before it locked the thread): {@code RETURNING} on PostgreSQL, a select from the
     * update's {@code FINAL TABLE} on H2; on PostgreSQL the turn's last step rides in that statement too
     * ({@link JdbiRunEnds}). Without it the store does not look (a read of its own would lengthen the
     * turn's transaction), and the caller looks after the end.
     */
    @Override
    public Completion completeRunAndLook(Message answer, Step turnEnd, Run completed, RunStatus expected) {
        if (!keepUsage) {
            return JdbcChatStore.super.completeRunAndLook(answer, turnEnd, completed, expected);
        }
        Require.that(completed.isTerminal(), "completeRun ends the run");
        return db.inTransaction(() -> {
            Message stored = messages.appendCounting(answer, completed);
            boolean queued = runs.ends().endLooking(turnEnd, completed, expected)
                    .orElseThrow(() -> ConflictException.runNotIn(completed.id(), expected));
            return new Completion(stored, queued);
        });
    }

    @Override
    public void ping() {
        db.call(h -> h.createQuery("SELECT 1").setQueryTimeout(PING_TIMEOUT_SECONDS).mapTo(Integer.class).one());
    }

    @Override
    public String database() {
        return db.dialect().name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void close() {
        compaction.close();
        if (folding != null) {
            folding.close();
        }
        if (liveness != null) {
            liveness.close();
        }
        if (closeSignals != null) {
            try {
                closeSignals.close();
            } catch (Exception e) {
                throw new IllegalStateException("Stopping the run signal listener failed", e);
            }
        }
        if (ownedPool != null) {
            try {
                ownedPool.close();
            } catch (Exception e) {
                throw new IllegalStateException("Closing the connection pool failed", e);
            }
        }
    }
}
