package dev.parley.adapter.jdbc;

import dev.parley.chat.model.Require;
import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.ServerLiveness;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Liveness on PostgreSQL. A server's signal is a session-level advisory lock, two-int form
 * {@code (LOCK_CLASS, key)}, held on a connection of its own; its row in {@code parley_servers} names
 * the key and the session ({@code backend_pid}) that holds it, so that another owner whose key collides
 * (it then takes the next of a few keys derived from its name) or a later session with the same pid
 * never counts as holding it. PostgreSQL releases the lock the moment that session ends: at once when
 * the server's process dies (its socket closes), never while the server is merely slow. The signal's
 * thread waits on that connection's socket, so a session that is cut is noticed at once and taken
 * again on a new one; if that fails, the row's {@code backend_pid} is cleared (the owner drops out of
 * {@link #owners} and its leases alone speak for it) until it succeeds. The beat is a counter moved
 * through the store's pool, in transactions that do not wait for their WAL flush.
 *
 * <p>{@link #expireLeases} locks the owner's row, checks its beat and its lock, and moves its leases
 * in one transaction: a beat waits for it, and one committed before it makes it fail.
 */
final class PgServerLiveness implements ServerLiveness, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgServerLiveness.class);
    /** The first key of every liveness lock ("Prly"), so that Parley's locks stay apart from an application's. */
    static final int LOCK_CLASS = 0x50726C79;
    /** How many keys an owner tries, in turn, when the one before is held by another session. */
    static final int KEY_PROBES = 16;
    /** How long the signal's thread waits on the socket before it looks whether it was closed. */
    private static final int WAIT_MILLIS = 200;
    /** Beats come every sixth of the grace: six failed ones in a row are about the grace. */
    private static final int WARN_AFTER_FAILED_BEATS = 6;
    private static final long MIN_BACKOFF_MILLIS = 50;
    private static final long MAX_BACKOFF_MILLIS = 1_000;

    /** The key of an owner's lock at a probe. */
    @FunctionalInterface
    interface Keys {
        int key(String owner, int probe);
    }

    private final Db db;
    private final PgRunSignals.Connector connector;
    private final Keys keys;
    private final Set<Held> held = ConcurrentHashMap.newKeySet();
    private final String register;
    private final String withdraw;
    private final String beat;
    private final String owners;
    private final String lockOwner;
    private final String expire;
    private final String forget;
    private final String purge;

    /** Liveness over {@code db}, its signals held on connections from {@code connector}; keys derived from the owner and the schema. */
    PgServerLiveness(Db db, PgRunSignals.Connector connector) {
        this(db, connector, (owner, probe) -> defaultKey(db.table(""), owner, probe));
    }

    PgServerLiveness(Db db, PgRunSignals.Connector connector, Keys keys) {
        this.db = db;
        this.connector = connector;
        this.keys = keys;
        String servers = db.table("parley_servers");
        String runs = db.table("parley_runs");
        String lockHeld = "EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = " + LOCK_CLASS
                + " AND l.objid = s.lock_key AND l.objsubid = 2 AND l.pid = s.backend_pid AND l.granted)";
        String runsInProgress = "EXISTS (SELECT 1 FROM " + runs + " r WHERE r.owner_id = s.owner_id AND r.status = 'in_progress'";
        register = "INSERT INTO " + servers + " AS s (owner_id, lock_key, backend_pid, beat, seen_at)"
                + " VALUES (?, ?, pg_backend_pid(), 0, now()) ON CONFLICT (owner_id) DO UPDATE"
                + " SET lock_key = EXCLUDED.lock_key, backend_pid = EXCLUDED.backend_pid, seen_at = now() RETURNING s.backend_pid";
        withdraw = "UPDATE " + servers + " SET backend_pid = NULL WHERE owner_id = :owner AND backend_pid = :pid";
        beat = "WITH c AS (SELECT set_config('synchronous_commit', 'off', true))"
                + " INSERT INTO " + servers + " AS s (owner_id, beat, seen_at) SELECT :owner, 1, now() FROM c"
                + " ON CONFLICT (owner_id) DO UPDATE SET beat = s.beat + 1, seen_at = now()";
        owners = "SELECT s.owner_id, s.beat, " + lockHeld + " AS held FROM " + servers + " s"
                + " WHERE s.backend_pid IS NOT NULL AND " + runsInProgress + " AND r.lease_expires_at > :now)";
        lockOwner = "SELECT s.beat, " + lockHeld + " AS held FROM " + servers + " s"
                + " WHERE s.owner_id = :owner AND s.backend_pid IS NOT NULL FOR UPDATE OF s";
        expire = "UPDATE " + runs + " SET lease_expires_at = :now"
                + " WHERE owner_id = :owner AND status = 'in_progress' AND lease_expires_at > :now RETURNING id";
        forget = "DELETE FROM " + servers + " s WHERE s.owner_id = :owner AND NOT " + runsInProgress + ")";
        purge = "DELETE FROM " + servers + " s WHERE s.seen_at < now() - interval '1 hour' AND NOT " + lockHeld
                + " AND NOT " + runsInProgress + ")";
    }

    /** A key in [0, 2^31) from the schema, the owner and the probe. */
    static int defaultKey(String schema, String owner, int probe) {
        String name = schema + owner + (probe == 0 ? "" : "#" + probe);
        // FNV-1a over the UTF-16 units: spreads names that differ in one character
        int hash = 0x811C9DC5;
        for (int i = 0; i < name.length(); i++) {
            hash ^= name.charAt(i);
            hash *= 0x01000193;
        }
        return hash & 0x7FFFFFFF;
    }

    @Override
    public boolean isSupported() {
        return true;
    }

    @Override
    public Signal hold(String owner, Duration beatEvery) {
        Require.notBlank(owner, "owner");
        Require.that(beatEvery != null && beatEvery.toMillis() >= 1, "beatEvery must be at least 1 ms");
        try {
            // rows of servers gone long ago, without runs: nobody asks about them any more
            db.call(h -> h.createUpdate(purge).execute());
        } catch (RuntimeException e) {
            LOG.debug("could not purge the rows of servers gone long ago", e);
        }
        Held signal = new Held(owner, beatEvery.toMillis());
        held.add(signal);
        signal.start();
        return signal;
    }

    @Override
    public List<OwnerState> owners(Instant now) {
        Require.notNull(now, "now");
        return db.call(h -> h.createQuery(owners).bindByType("now", now, Instant.class)
                .map((rs, ctx) -> new OwnerState(Text.get(rs.getString("owner_id")), rs.getBoolean("held"), rs.getLong("beat")))
                .list());
    }

    @Override
    public List<RunId> expireLeases(String owner, long beat, Instant now) {
        Require.notBlank(owner, "owner");
        Require.notNull(now, "now");
        return db.inTransaction(() -> db.call(h -> {
            Optional<Boolean> stillGone = h.createQuery(lockOwner).bind("owner", Text.put(owner))
                    .map((rs, ctx) -> rs.getLong("beat") == beat && !rs.getBoolean("held"))
                    .findOne();
            if (!stillGone.orElse(false)) {
                return List.of();
            }
            return h.createQuery(expire).bind("owner", Text.put(owner)).bindByType("now", now, Instant.class)
                    .map((rs, ctx) -> new RunId(rs.getString("id")))
                    .list();
        }));
    }

    /** Gives up every signal still held (a store that closes). */
    @Override
    public void close() {
        for (Held signal : held) {
            signal.close();
        }
    }

    /** One owner's signal: a thread that holds the lock on its connection, and the beats. */
    private final class Held implements Signal {
        private final String owner;
        private final long beatMillis;
        private final AtomicLong takes = new AtomicLong();
        private final Object pause = new Object();
        private final ScheduledExecutorService beats;
        private volatile boolean isHeld;
        private volatile boolean closed;
        /** Beats in a row that failed; touched by the beating thread only. */
        private int failedBeats;
        private Thread thread;

        Held(String owner, long beatMillis) {
            this.owner = owner;
            this.beatMillis = beatMillis;
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, task -> {
                Thread t = new Thread(task, "parley-liveness-beat");
                t.setDaemon(true);
                return t;
            });
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            this.beats = executor;
        }

        void start() {
            beats.scheduleWithFixedDelay(this::beat, 0, beatMillis, TimeUnit.MILLISECONDS);
            thread = new Thread(this::holdSignal, "parley-liveness-signal");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public boolean isHeld() {
            return isHeld;
        }

        @Override
        public long takes() {
            return takes.get();
        }

        private void beat() {
            try {
                db.call(h -> h.createUpdate(beat).bind("owner", Text.put(owner)).execute());
                if (failedBeats >= WARN_AFTER_FAILED_BEATS) {
                    LOG.info("Server {} beats again", owner);
                }
                failedBeats = 0;
            } catch (RuntimeException e) {
                // a beat that finds the pool busy is no news; beats failing for about the grace are
                if (!closed && ++failedBeats == WARN_AFTER_FAILED_BEATS) {
                    LOG.warn("Server {} could not beat {} times in a row (it keeps trying): {}", owner, failedBeats,
                            e.getClass().getSimpleName());
                } else if (!closed) {
                    LOG.debug("Server {} could not beat (it tries again): {}", owner, e.getClass().getSimpleName());
                }
            }
        }

        /** Takes the lock, registers it, and waits on the socket until the session ends or the signal is closed; again and again. */
        private void holdSignal() {
            long backoff = 0;
            int registeredPid = 0;
            boolean reportedLoss = false;
            while (!closed) {
                Connection c = null;
                int key = -1;
                try {
                    c = connector.open();
                    if (!c.getAutoCommit()) {
                        c.setAutoCommit(true);
                    }
                    key = takeLock(c);
                    registeredPid = register(c, key);
                    isHeld = true;
                    takes.incrementAndGet();
                    if (reportedLoss) {
                        LOG.info("Server {} holds its liveness signal again", owner);
                        reportedLoss = false;
                    }
                    backoff = 0;
                    PGConnection pg = c.unwrap(PGConnection.class);
                    while (!closed) {
                        // returns at once, with an exception, when the session ends
                        pg.getNotifications(WAIT_MILLIS);
                    }
                } catch (SQLException | RuntimeException e) {
                    if (closed) {
                        break;
                    }
                    boolean wasHeld = isHeld;
                    isHeld = false;
                    if (!reportedLoss) {
                        LOG.warn(wasHeld ? "Server {} lost its liveness signal; taking it again: {}"
                                : "Server {} could not take its liveness signal (its runs are left to their leases until it does): {}",
                                owner, e.getClass().getSimpleName());
                        reportedLoss = true;
                    }
                    if (!wasHeld) {
                        // taking it again failed: the other servers must not judge this one by a lock it cannot hold
                        if (registeredPid != 0 && withdraw(registeredPid)) {
                            registeredPid = 0;
                        }
                        pause(backoff);
                    }
                    backoff = Math.min(MAX_BACKOFF_MILLIS, Math.max(MIN_BACKOFF_MILLIS, backoff * 2));
                } finally {
                    isHeld = false;
                    release(c, key);
                }
            }
        }

        /** Takes the first free key of the owner's; throws when all are held by other sessions. */
        private int takeLock(Connection c) throws SQLException {
            for (int probe = 0; probe < KEY_PROBES; probe++) {
                int key = keys.key(owner, probe);
                try (PreparedStatement s = c.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
                    s.setInt(1, LOCK_CLASS);
                    s.setInt(2, key);
                    try (ResultSet rs = s.executeQuery()) {
                        if (rs.next() && rs.getBoolean(1)) {
                            return key;
                        }
                    }
                }
            }
            throw new SQLException("every liveness lock key of the server is held by another session", "55P03");
        }

        /** Names the key and this session in the owner's row; returns the session's pid. */
        private int register(Connection c, int key) throws SQLException {
            try (PreparedStatement s = c.prepareStatement(register)) {
                s.setString(1, Text.put(owner));
                s.setInt(2, key);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        }

        /** Clears the session from the owner's row, if it still names {@code pid}; false when the store could not be reached. */
        private boolean withdraw(int pid) {
            try {
                db.call(h -> h.createUpdate(withdraw).bind("owner", Text.put(owner)).bind("pid", pid).execute());
                return true;
            } catch (RuntimeException e) {
                LOG.debug("could not withdraw the liveness signal of {}", owner, e);
                return false;
            }
        }

        /** Gives the lock up (a connection borrowed from a pool goes back without it) and closes the connection. */
        private void release(Connection c, int key) {
            if (c == null) {
                return;
            }
            if (key >= 0) {
                try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
                    s.setInt(1, LOCK_CLASS);
                    s.setInt(2, key);
                    s.execute();
                } catch (SQLException | RuntimeException e) {
                    // the session is gone, and the lock with it
                }
            }
            try {
                c.close();
            } catch (SQLException | RuntimeException e) {
                // the connection is broken; nothing to give back
            }
        }

        private void pause(long millis) {
            synchronized (pause) {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
                long remaining;
                while (!closed && (remaining = deadline - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(pause, remaining);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        @Override
        public void close() {
            synchronized (pause) {
                if (closed) {
                    return;
                }
                closed = true;
                pause.notifyAll();
            }
            beats.shutdownNow();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
                beats.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            held.remove(this);
            try {
                db.call(h -> h.createUpdate(forget).bind("owner", Text.put(owner)).execute());
            } catch (RuntimeException e) {
                LOG.debug("could not forget server {}", owner, e);
            }
        }
    }
}
