package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.StorageUnavailableException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;
import java.util.Set;
import org.jdbi.v3.core.ConnectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns database failures into the port's exceptions. Messages are fixed phrases: neither SQL, nor
 * values, nor driver text reaches them (the original stays available as the cause, for server logs).
 */
final class SqlErrors {
    private static final Logger LOG = LoggerFactory.getLogger(SqlErrors.class);

    /** Index enforcing one in-progress run per thread, as both vendors name it in their messages. */
    static final String ONE_IN_PROGRESS = "parley_runs_one_in_progress";

    /** H2 error codes meaning the database or the connection is gone. */
    private static final Set<Integer> H2_GONE = Set.of(90067, 90098, 90121, 90020, 90028, 90049, 90135, 90146);

    private SqlErrors() {}

    /** The port exception for {@code failure}; ChatExceptions and other non-database exceptions pass through. */
    static RuntimeException translate(Throwable failure) {
        if (failure instanceof ChatException ce) {
            return ce;
        }
        SQLException sql = sqlCause(failure);
        if (sql == null && !(failure instanceof org.jdbi.v3.core.JdbiException)) {
            return failure instanceof RuntimeException re ? re : new IllegalStateException(failure);
        }
        if (failure instanceof ConnectionException || sql == null || isTransient(sql)) {
            LOG.warn("Database unreachable or busy: {}", describe(sql, failure));
            return new StorageUnavailableException("The store is unreachable", failure);
        }
        String state = sql.getSQLState() == null ? "" : sql.getSQLState();
        if (state.equals("23505")) {
            if (mentions(sql, ONE_IN_PROGRESS)) {
                return new ConflictException(ConflictException.Reason.RUN_IN_PROGRESS, "The thread already has a run in progress");
            }
            return new ConflictException(ConflictException.Reason.DUPLICATE, "A record with the same key already exists");
        }
        if (state.equals("23503")) {
            return new NotFoundException("not_found", "A record it refers to does not exist");
        }
        if (state.startsWith("23")) {
            return new ConflictException(ConflictException.Reason.CONSTRAINT, "The change breaks a rule of the store");
        }
        LOG.warn("Database failure: {}", describe(sql, failure));
        return new StorageUnavailableException("The store failed to answer", failure);
    }

    /**
     * True for failures that retrying later may cure: the database or the connection to it is gone,
     * it is shutting down or out of resources, or a lock or statement timed out.
     */
    static boolean isTransient(SQLException sql) {
        for (Throwable t = sql; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException) {
                return true;
            }
            if (t instanceof SQLException s) {
                String state = s.getSQLState() == null ? "" : s.getSQLState();
                if (state.startsWith("08") || state.startsWith("53") || state.startsWith("57P")
                        || state.equals("57014") || state.equals("40001") || state.equals("40P01") || state.equals("HYT00")
                        || H2_GONE.contains(s.getErrorCode())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** True when the failure shows the connection or the database behind it is gone for good. */
    static boolean isDatabaseGone(SQLException sql) {
        String state = sql.getSQLState() == null ? "" : sql.getSQLState();
        return state.startsWith("08") || state.startsWith("57P") || H2_GONE.contains(sql.getErrorCode());
    }

    private static boolean mentions(SQLException sql, String name) {
        for (Throwable t = sql; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message != null && message.toLowerCase(Locale.ROOT).contains(name)) {
                return true;
            }
        }
        return false;
    }

    private static SQLException sqlCause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }

    private static String describe(SQLException sql, Throwable failure) {
        return sql == null ? failure.getClass().getSimpleName()
                : "SQLState " + sql.getSQLState() + ", vendor code " + sql.getErrorCode();
    }
}
