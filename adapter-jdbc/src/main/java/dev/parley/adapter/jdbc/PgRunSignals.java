package dev.parley.adapter.jdbc;

import dev.parley.chat.model.RunId;
import dev.parley.chat.port.out.RunSignals;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hints from PostgreSQL's {@code LISTEN}/{@code NOTIFY}, from every server on the database. One
 * daemon thread holds one connection that listens on the two channels the stores notify (the
 * payload is only a run id, far below the 8,000-byte limit) and calls the listeners in turn. The
 * thread starts with the first listener; when the connection is lost it reconnects with a backoff,
 * and hints sent meanwhile are lost (readers poll as a fallback). Registering waits (briefly) until
 * the connection listens, so that changes committed afterwards are heard.
 */
final class PgRunSignals implements RunSignals, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgRunSignals.class);
    private static final int WAIT_MILLIS = 500;
    private static final Duration FIRST_LISTEN_WAIT = Duration.ofSeconds(5);
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    /** Opens the listening connection: a connection of its own, or one borrowed from the caller's pool. */
    @FunctionalInterface
    interface Connector {
        Connection open() throws SQLException;
    }

    private final Connector connector;
    private final List<Consumer<RunId>> runListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<RunId>> eventListeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private final CountDownLatch listening = new CountDownLatch(1);
    private Thread thread;
    private volatile boolean closed;

    PgRunSignals(Connector connector) {
        this.connector = connector;
    }

    @Override
    public Registration onRunChanged(Consumer<RunId> listener) {
        return register(runListeners, listener);
    }

    @Override
    public Registration onEventsStored(Consumer<RunId> listener) {
        return register(eventListeners, listener);
    }

    private Registration register(List<Consumer<RunId>> listeners, Consumer<RunId> listener) {
        Consumer<RunId> entry = listener::accept; // one entry per registration
        listeners.add(entry);
        start();
        try {
            if (!listening.await(FIRST_LISTEN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Not listening for run signals yet (database unreachable?); polling covers the gap");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return () -> listeners.remove(entry);
    }

    private void start() {
        synchronized (lock) {
            if (thread != null || closed) {
                return;
            }
            thread = new Thread(this::listen, "parley-pg-listener");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private void listen() {
        long backoff = MIN_BACKOFF_MILLIS;
        boolean reportedLoss = false;
        while (!closed) {
            try (Connection c = connector.open()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + Db.Hint.RUN_CHANGED.channel());
                    s.execute("LISTEN " + Db.Hint.EVENTS_STORED.channel());
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

    private void dispatch(String channel, String payload) {
        List<Consumer<RunId>> listeners;
        if (Db.Hint.RUN_CHANGED.channel().equals(channel)) {
            listeners = runListeners;
        } else if (Db.Hint.EVENTS_STORED.channel().equals(channel)) {
            listeners = eventListeners;
        } else {
            return;
        }
        RunId.parse(payload).ifPresent(runId -> LocalRunSignals.Listeners.call(listeners, runId, LOG));
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

    /** Stops listening and waits for the listening thread to end. Idempotent. */
    @Override
    public void close() {
        Thread listener;
        synchronized (lock) {
            closed = true;
            listener = thread;
            lock.notifyAll();
        }
        if (listener != null) {
            try {
                listener.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
