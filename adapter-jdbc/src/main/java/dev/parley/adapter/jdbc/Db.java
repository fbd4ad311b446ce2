package dev.parley.adapter.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 */
final class Db {
    private final Jdbi jdbi;
    private final Dialect dialect;
    private final String prefix;
    private final ThreadLocal<Handle> bound = new ThreadLocal<>();
    private final AtomicLong savepoints = new AtomicLong();

    Db(DataSource dataSource, Dialect dialect, String schema) {
        this.jdbi = Jdbi.create(dataSource);
        this.dialect = dialect;
        this.prefix = schema == null ? "" : quote(schema) + ".";
        jdbi.getConfig(SqlStatements.class).setTemplateEngine(TemplateEngine.NOP);
        jdbi.registerArgument(new InstantArgumentFactory());
    }

    Dialect dialect() {
        return dialect;
    }

    /** The qualified name of a Parley table. */
    String table(String name) {
        return prefix + name;
    }

    /** A read or a single statement, on the thread's transaction or a handle of its own. */
    <T> T call(Work<T> work) {
        Handle h = bound.get();
        try {
            if (h != null) {
                return work.apply(h);
            }
            try (Handle own = jdbi.open()) {
                return work.apply(own);
            }
        } catch (RuntimeException e) {
            throw SqlErrors.translate(e);
        }
    }

    /**
     * Several statements that take effect together: inside the thread's transaction they join it,
     * otherwise they get a transaction of their own. {@code mayConflict}: see {@link #guarded}.
     */
    <T> T atomic(boolean mayConflict, Work<T> work) {
        return run(true, mayConflict, work);
    }

    /**
     * One statement that may fail on a constraint (a caller may catch the conflict and carry on):
     * inside the thread's transaction it runs under a savepoint where a failed statement would
     * otherwise poison the transaction (PostgreSQL).
     */
    <T> T guarded(Work<T> work) {
        return run(false, true, work);
    }

    private <T> T run(boolean ownTransaction, boolean mayConflict, Work<T> work) {
        Handle h = bound.get();
        try {
            if (h == null) {
                if (ownTransaction) {
                    return jdbi.inTransaction(work::apply);
                }
                try (Handle own = jdbi.open()) {
                    return work.apply(own);
                }
            }
            if (!mayConflict || !dialect.failedStatementAbortsTransaction()) {
                return work.apply(h);
            }
            String savepoint = "parley_sp" + savepoints.incrementAndGet();
            h.savepoint(savepoint);
            T result;
            try {
                result = work.apply(h);
            } catch (RuntimeException e) {
                h.rollbackToSavepoint(savepoint);
                throw e;
            }
            h.releaseSavepoint(savepoint);
            return result;
        } catch (RuntimeException e) {
            throw SqlErrors.translate(e);
        }
    }

    /** See {@link dev.parley.chat.port.out.ChatStore#inTransaction(Supplier)}. */
    <T> T inTransaction(Supplier<T> work) {
        if (bound.get() != null) {
            return work.get();
        }
        Handle h;
        try {
            h = jdbi.open();
        } catch (RuntimeException e) {
            throw SqlErrors.translate(e);
        }
        try {
            h.begin();
            bound.set(h);
            T result = work.get();
            h.commit();
            return result;
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
    }

    /** True while the calling thread is inside {@link #inTransaction}. */
    boolean inTransaction() {
        return bound.get() != null;
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
