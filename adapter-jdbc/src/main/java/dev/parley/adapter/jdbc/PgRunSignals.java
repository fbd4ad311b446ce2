package dev.parley.adapter.jdbc;

import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunSignals;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hints on PostgreSQL, between every server sharing the database.
 *
 * <p>A committed change made through this store reaches this process's listeners at once (through
 * {@link LocalRunSignals}) and the other servers by {@code NOTIFY}: a sender thread takes the hints
 * waiting, borrows a connection from the store's pool and sends them all in one auto-committed
 * statement. The notifications are not sent inside the changing transaction: there, every commit
 * that notifies takes PostgreSQL's database-wide notification lock until its WAL flush, so
 * concurrent turns would commit one at a time, and each hint would cost the turn a round trip. The
 * sender gathers what arrives within a millisecond of a first hint, and its transaction does not wait
 * for its WAL flush. The
 * payload is the run id and this store's origin tag (far below the 8,000-byte limit); the listener
 * ignores its own.
 *
 * <p>One daemon thread holds one connection that listens on the schema's two channels and calls the
 * listeners in turn. It starts with the first listener; when the connection is lost it reconnects
 * with a backoff. Hints sent while a server does not listen, or while the database cannot be
 * reached, or that find the bounded queue full, are lost: they are wake-ups, and readers poll as a
 * fallback. Registering waits (briefly) until the connection listens, so that changes committed
 * afterwards are heard.
 */
final class PgRunSignals implements RunSignals, Db.Hints, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgRunSignals.class);
    private static final int WAIT_MILLIS = 500;
    private static final Duration FIRST_LISTEN_WAIT = Duration.ofSeconds(5);
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 5_000;
    /** Hints waiting to be sent; more are dropped (and counted) while the database is slow or away. */
    static final int QUEUE_CAPACITY = 16_384;
    /** At most this many hints leave in one statement. */
    static final int MAX_BATCH = 512;
    /**
     * How long the sender waits for more hints after the first one of a batch: every statement that
     * notifies is a transaction of its own with a commit record, so batching saves the database work at
     * a cost of this much latency for the other servers.
     */
    static final long GATHER_MICROS = 1_000;
    /** PostgreSQL's longest identifier, a channel's name included, in bytes. */
    static final int MAX_CHANNEL_LENGTH = 63;
    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9_]+");
    /**
     * One auto-committed statement: the notifications of a batch, in a transaction that does not wait
     * for its WAL flush (a hint lost in a crash costs a poll, and notifications are delivered at
     * commit either way).
     */
    private static final String SEND = "SELECT set_config('synchronous_commit', 'off', true), pg_notify(c, p)"
            + " FROM unnest(?, ?) AS t(c, p)";

    /** Opens the listening connection: a connection of its own, or one borrowed from the caller's pool. */
    @FunctionalInterface
    interface Connector {
        Connection open() throws SQLException;
    }

    private final Connector connector;
    private final DataSource sendVia;
    private final LocalRunSignals local = new LocalRunSignals();
    /** Tells this store's notifications from other servers': a random tag per store. */
    private final String origin;
    private final BlockingQueue<Outgoing> outgoing = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final AtomicLong dropped = new AtomicLong();
    private final Object lock = new Object();
    private final CountDownLatch listening = new CountDownLatch(1);
    private Thread listener;
    private volatile Thread sender;
    private volatile boolean closed;

    private final String runChangedChannel;
    private final String eventsStoredChannel;

    private record Outgoing(String channel, String payload) {}

    /**
     * @param connector where the listening connection comes from
     * @param sendVia   the pool the sender borrows a connection from for each batch of notifications
     * @param schema    the schema whose tables the store uses: stores in other schemas of the database
     *                  neither hear nor send its hints (null: the hints of the default schema)
     */
    PgRunSignals(Connector connector, DataSource sendVia, String schema) {
        this.connector = connector;
        this.sendVia = sendVia;
        this.runChangedChannel = channel(Db.Hint.RUN_CHANGED, schema);
        this.eventsStoredChannel = channel(Db.Hint.EVENTS_STORED, schema);
        byte[] tag = new byte[6];
        new SecureRandom().nextBytes(tag);
        this.origin = HexFormat.of().formatHex(tag);
    }

    @Override
    public Registration onRunChanged(Consumer<RunId> listener) {
        return listening(local.onRunChanged(listener));
    }

    @Override
    public Registration onEventsStored(Consumer<RunId> listener) {
        return listening(local.onEventsStored(listener));
    }

    private Registration listening(Registration registration) {
        startListener();
        try {
            if (!listening.await(FIRST_LISTEN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Not listening for run signals yet (database unreachable?); polling covers the gap");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return registration;
    }

    /** A committed change: to this process's listeners now, to the other servers' by the sender. */
    @Override
    public void deliver(Db.Hint hint, String runId) {
        local.deliver(hint, runId);
        if (closed) {
            return;
        }
        if (!outgoing.offer(new Outgoing(channel(hint), runId + " " + origin))) {
            if (dropped.getAndIncrement() == 0) {
                LOG.warn("Run signals for other servers are being dropped (the database is slow or away); they poll meanwhile");
            }
            return;
        }
        startSender();
    }

    private String channel(Db.Hint hint) {
        return hint == Db.Hint.RUN_CHANGED ? runChangedChannel : eventsStoredChannel;
    }

    /**
     * The channel of {@code hint} for the stores of {@code schema}: notifications are database-wide, so each
     * schema has channels of its own. The default schema ({@code public}, or none) keeps the plain names; a
     * schema whose name would make the channel longer than PostgreSQL's 63 bytes, or that has characters
     * besides A-Z a-z 0-9 _ (a connection's own schema may), is named by a digest (after a {@code #}, which
     * such a plain name never contains).
     */
    static String channel(Db.Hint hint, String schema) {
        if (schema == null || schema.equals("public")) {
            return hint.channel();
        }
        String named = hint.channel() + "." + schema;
        if (named.length() <= MAX_CHANNEL_LENGTH && PLAIN_NAME.matcher(schema).matches()) {
            return named;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(schema.getBytes(StandardCharsets.UTF_8));
            return hint.channel() + "#" + HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private void startListener() {
        synchronized (lock) {
            if (listener != null || closed) {
                return;
            }
            listener = daemon(this::listen, "parley-pg-listener");
        }
    }

    private void startSender() {
        if (sender != null) {
            return;
        }
        synchronized (lock) {
            if (sender != null || closed) {
                return;
            }
            sender = daemon(this::send, "parley-pg-notifier");
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    // ---- sending -------------------------------------------------------------------------------

    private void send() {
        long backoff = MIN_BACKOFF_MILLIS;
        boolean reportedLoss = false;
        List<Outgoing> batch = new ArrayList<>();
        while (true) {
            batch.clear();
            try {
                Outgoing first = outgoing.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closed) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            gather(batch);
            try {
                sendBatch(batch);
                backoff = MIN_BACKOFF_MILLIS;
                if (reportedLoss) {
                    LOG.info("Sending run signals to other servers again");
                    reportedLoss = false;
                }
                long lost = dropped.getAndSet(0);
                if (lost > 0) {
                    LOG.info("{} run signals for other servers were dropped; their readers polled", lost);
                }
            } catch (SQLException | RuntimeException e) {
                if (!reportedLoss) {
                    LOG.warn("Could not send run signals to other servers (they poll meanwhile): {}",
                            e.getClass().getSimpleName());
                    reportedLoss = true;
                }
                if (closed) {
                    return;
                }
                pause(backoff);
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    /** Adds the hints that arrive within {@link #GATHER_MICROS} of the first one, up to {@link #MAX_BATCH}. */
    private void gather(List<Outgoing> batch) {
        long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(GATHER_MICROS);
        while (batch.size() < MAX_BATCH) {
            outgoing.drainTo(batch, MAX_BATCH - batch.size());
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0 || batch.size() >= MAX_BATCH) {
                return;
            }
            try {
                Outgoing next = outgoing.poll(remaining, TimeUnit.NANOSECONDS);
                if (next == null) {
                    return;
                }
                batch.add(next);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Sends a batch in one auto-committed statement; hints that repeat within it are sent once. */
    private void sendBatch(List<Outgoing> batch) throws SQLException {
        Set<Outgoing> distinct = new LinkedHashSet<>(batch);
        String[] channels = new String[distinct.size()];
        String[] payloads = new String[distinct.size()];
        int i = 0;
        for (Outgoing o : distinct) {
            channels[i] = o.channel();
            payloads[i++] = o.payload();
        }
        try (Connection c = sendVia.getConnection()) {
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            Array channelArray = c.createArrayOf("text", channels);
            Array payloadArray = c.createArrayOf("text", payloads);
            try (PreparedStatement s = c.prepareStatement(SEND)) {
                s.setArray(1, channelArray);
                s.setArray(2, payloadArray);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        // one row per notification
                    }
                }
            }
        }
    }

    // ---- listening -----------------------------------------------------------------------------

    private void listen() {
        long backoff = MIN_BACKOFF_MILLIS;
        boolean reportedLoss = false;
        while (!closed) {
            try (Connection c = connector.open()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN \"" + runChangedChannel + "\"");
                    s.execute("LISTEN \"" + eventsStoredChannel + "\"");
                }
                if (reportedLoss) {
                    LOG.info("Listening for run signals again");
                    reportedLoss = false;
                }
                listening.countDown();
                backoff = MIN_BACKOFF_MILLIS;
                PGConnection pg = c.unwrap(PGConnection.class);
                try {
                    while (!closed) {
                        PGNotification[] notifications = pg.getNotifications(WAIT_MILLIS);
                        if (notifications != null) {
                            for (PGNotification n : notifications) {
                                dispatch(n.getName(), n.getParameter());
                            }
                        }
                    }
                } finally {
                    unlisten(c);
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (!reportedLoss) {
                    LOG.warn("Lost the connection that listens for run signals; reconnecting (readers poll meanwhile): {}",
                            e.getClass().getSimpleName());
                    reportedLoss = true;
                }
                pause(backoff);
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
    }

    /** A borrowed pooled connection must not keep listening for its next user. */
    private static void unlisten(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("UNLISTEN *");
        } catch (SQLException | RuntimeException e) {
            // the connection is broken; the pool discards it
        }
    }

    /** A notification of another server: its payload is {@code <run id> <origin>}. */
    private void dispatch(String channel, String payload) {
        Db.Hint hint;
        if (runChangedChannel.equals(channel)) {
            hint = Db.Hint.RUN_CHANGED;
        } else if (eventsStoredChannel.equals(channel)) {
            hint = Db.Hint.EVENTS_STORED;
        } else {
            return;
        }
        int space = payload.indexOf(' ');
        if (space >= 0 && payload.regionMatches(space + 1, origin, 0, origin.length())
                && payload.length() == space + 1 + origin.length()) {
            return; // this store's own: its listeners heard it when it committed
        }
        RunId.parse(space < 0 ? payload : payload.substring(0, space)).ifPresent(runId -> local.deliverHere(hint, runId));
    }

    private void pause(long millis) {
        synchronized (lock) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            long remaining;
            while (!closed && (remaining = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, remaining);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Sends the hints still waiting (if the database answers), stops both threads and waits for them. Idempotent. */
    @Override
    public void close() {
        Thread[] threads;
        synchronized (lock) {
            closed = true;
            threads = new Thread[] {listener, sender};
            lock.notifyAll();
        }
        for (Thread t : threads) {
            if (t == null) {
                continue;
            }
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
