package dev.parley.adapter.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.argument.AbstractArgumentFactory;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.config.ConfigRegistry;
import org.jdbi.v3.core.statement.SqlStatements;
import org.jdbi.v3.core.statement.TemplateEngine;

/**
 * Handles and transactions. A transaction opened by {@link #inTransaction} is bound to the calling
 * thread; every store call made inside it from that thread runs on the same handle, and nested
 * transactions join it. Outside a transaction each store call takes a short-lived handle from the
 * pool. Every failure leaves here translated by {@link SqlErrors}.
 *
 * <p>A store call that fails inside a transaction fails the whole transaction: it rolls back when
 * the outermost work ends, and {@link #inTransaction} throws that failure even if the work caught it;
 * store calls made after it throw {@link IllegalStateException} without reaching the database. On
 * PostgreSQL a failed statement leaves nothing else to do in its transaction anyway, and no statement
 * needs a savepoint (two more round trips) to be caught.
 *
 * <p>Hints about changed runs ({@link #hint}) go to the store's {@link Hints} once the change is
 * committed: right away outside a transaction, when the outermost transaction commits inside one,
 * never for one that rolls back.
 */
final class Db {
    private final Jdbi jdbi;
    private final Dialect dialect;
    private final String prefix;
    private final Hints hints;
    private final ThreadLocal<Tx> bound = new ThreadLocal<>();

    /** Where committed hints go: this process's listeners and, on PostgreSQL, every other server's. */
    @FunctionalInterface
    interface Hints {
        /** Called after the change committed; must not block. */
        void deliver(Hint hint, String runId);
    }

    private record PendingHint(Hint hint, String runId) {}

    /** The transaction bound to a thread: its handle, the hints it sends if it commits, its failure. */
    private static final class Tx {
        final Handle handle;
        final List<PendingHint> hints = new ArrayList<>();
        final List<Runnable> afterCommit = new ArrayList<>();
        RuntimeException failure;

        Tx(Handle handle) {
            this.handle = handle;
        }

        /** Records the first failure of the transaction and returns {@code failure}. */
        RuntimeException fail(RuntimeException failure) {
            if (this.failure == null) {
                this.failure = failure;
            }
            return failure;
        }

        void requireUsable() {
            if (failure != null) {
                throw new IllegalStateException("A store call failed earlier in this transaction: it can only roll back",
                        failure);
            }
        }
    }

    Db(DataSource dataSource, Dialect dialect, String schema, Hints hints) {
        this.jdbi = Jdbi.create(dataSource);
        this.dialect = dialect;
        this.prefix = schema == null ? "" : quote(schema) + ".";
        this.hints = hints;
        jdbi.getConfig(SqlStatements.class).setTemplateEngine(TemplateEngine.NOP);
        jdbi.registerArgument(new InstantArgumentFactory());
    }

    /** Hints that a run changed or its events were stored, once the calling thread's change commits. */
    void hint(Hint hint, String runId) {
        Tx tx = bound.get();
        if (tx != null) {
            tx.hints.add(new PendingHint(hint, runId));
        } else {
            hints.deliver(hint, runId);
        }
    }

    /** Runs {@code action} in this process once the calling thread's change commits (at once outside a transaction). */
    void afterCommit(Runnable action) {
        Tx tx = bound.get();
        if (tx != null) {
            tx.afterCommit.add(action);
        } else {
            action.run();
        }
    }

    /** The two kinds of hints, and their PostgreSQL notification channels. */
    enum Hint {
        RUN_CHANGED("parley_run_changed"),
        EVENTS_STORED("parley_run_events");

        private final String channel;

        Hint(String channel) {
            this.channel = channel;
        }

        String channel() {
            return channel;
        }
    }

    Dialect dialect() {
        return dialect;
    }

    /** The qualified name of a Parley table. */
    String table(String name) {
        return prefix + name;
    }

    /** A read or a single statement: on the thread's transaction, or on a handle of its own in auto-commit. */
    <T> T call(Work<T> work) {
        Tx tx = bound.get();
        if (tx != null) {
            tx.requireUsable();
            try {
                return work.apply(tx.handle);
            } catch (RuntimeException e) {
                throw tx.fail(SqlErrors.translate(e));
            }
        }
        try (Handle own = jdbi.open()) {
            return work.apply(own);
        } catch (RuntimeException e) {
            throw SqlErrors.translate(e);
        }
    }

    /** Several statements that take effect together: they join the thread's transaction, or get one of their own. */
    <T> T atomic(Work<T> work) {
        if (bound.get() != null) {
            return call(work);
        }
        return inTransaction(() -> call(work));
    }

    /** See {@link dev.parley.chat.port.out.ChatStore#inTransaction(Supplier)}. */
    <T> T inTransaction(Supplier<T> work) {
        Tx outer = bound.get();
        if (outer != null) {
            outer.requireUsable();
            try {
                return work.get();
            } catch (RuntimeException e) {
                outer.fail(e);
                throw e;
            }
        }
        Handle h;
        try {
            h = jdbi.open();
        } catch (RuntimeException e) {
            throw SqlErrors.translate(e);
        }
        Tx tx = new Tx(h);
        T result;
        try {
            h.begin();
            bound.set(tx);
            result = work.get();
            if (tx.failure != null) {
                // the work caught a store call's failure and went on: the transaction cannot commit
                throw tx.failure;
            }
            h.commit();
        } catch (RuntimeException e) {
            rollbackQuietly(h, e);
            throw SqlErrors.translate(e);
        } catch (Error e) {
            rollbackQuietly(h, e);
            throw e;
        } finally {
            bound.remove();
            closeQuietly(h);
        }
        for (PendingHint pending : tx.hints) {
            hints.deliver(pending.hint(), pending.runId());
        }
        tx.afterCommit.forEach(Runnable::run);
        return result;
    }

    private static void rollbackQuietly(Handle h, Throwable failure) {
        try {
            if (h.isInTransaction()) {
                h.rollback();
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private static void closeQuietly(Handle h) {
        try {
            h.close();
        } catch (RuntimeException e) {
            // the connection is gone; the pool discards it
        }
    }

    static String quote(String identifier) {
        if (!identifier.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("schema names are 1-63 of A-Z a-z 0-9 _, not starting with a digit");
        }
        return "\"" + identifier + "\"";
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /** The precision every instant is stored with: what is read back equals what was written, truncated to it. */
    static Instant stored(Instant instant) {
        return instant == null ? null : instant.truncatedTo(ChronoUnit.MICROS);
    }

    /** Statement work on a handle. */
    @FunctionalInterface
    interface Work<T> {
        T apply(Handle handle);
    }

    /** Binds instants as {@code TIMESTAMP WITH TIME ZONE} in UTC, truncated to microseconds. */
    private static final class InstantArgumentFactory extends AbstractArgumentFactory<Instant> {
        InstantArgumentFactory() {
            super(Types.TIMESTAMP_WITH_TIMEZONE);
        }

        @Override
        protected Argument build(Instant value, ConfigRegistry config) {
            OffsetDateTime odt = OffsetDateTime.ofInstant(stored(value), ZoneOffset.UTC);
            return (int position, PreparedStatement statement, org.jdbi.v3.core.statement.StatementContext ctx) ->
                    statement.setObject(position, odt);
        }
    }
}
