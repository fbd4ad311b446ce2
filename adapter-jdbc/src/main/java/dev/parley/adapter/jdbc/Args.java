package dev.parley.adapter.jdbc;

import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * Statement arguments that set their JDBC value themselves. For any other bound value Jdbi finds an argument
 * factory at every execution, through caches that live in the handle's own copy of the configuration (so every
 * transaction starts them cold); a bound {@link Argument} is applied as it is. The statements of a turn bind
 * through these. Each sets what Jdbi's own factory for its type sets, nulls included, and describes itself by its
 * value, as Jdbi's arguments do (in a failed statement's exception and a statement's flight-recorder event).
 */
final class Args {
    private static final Arg NULL_TEXT = new Arg(Types.VARCHAR, null);
    private static final Arg NULL_BIGINT = new Arg(Types.BIGINT, null);
    private static final Arg NULL_INTEGER = new Arg(Types.INTEGER, null);
    private static final Arg NULL_BOOLEAN = new Arg(Types.BOOLEAN, null);
    private static final Arg NULL_DOUBLE = new Arg(Types.DOUBLE, null);
    private static final Arg NULL_NUMERIC = new Arg(Types.NUMERIC, null);
    private static final Arg NULL_BYTES = new Arg(Types.VARBINARY, null);
    private static final Arg NULL_TIME = new Arg(Types.TIMESTAMP_WITH_TIMEZONE, null);
    private static final Arg TRUE = new Arg(Types.BOOLEAN, Boolean.TRUE);
    private static final Arg FALSE = new Arg(Types.BOOLEAN, Boolean.FALSE);

    private Args() {}

    static Argument text(String value) {
        return value == null ? NULL_TEXT : new Arg(Types.VARCHAR, value);
    }

    static Argument int64(long value) {
        return new Arg(Types.BIGINT, value);
    }

    static Argument int64(Long value) {
        return value == null ? NULL_BIGINT : new Arg(Types.BIGINT, value);
    }

    static Argument int32(int value) {
        return new Arg(Types.INTEGER, value);
    }

    static Argument int32(Integer value) {
        return value == null ? NULL_INTEGER : new Arg(Types.INTEGER, value);
    }

    static Argument bool(boolean value) {
        return value ? TRUE : FALSE;
    }

    static Argument bool(Boolean value) {
        return value == null ? NULL_BOOLEAN : bool(value.booleanValue());
    }

    static Argument float64(Double value) {
        return value == null ? NULL_DOUBLE : new Arg(Types.DOUBLE, value);
    }

    static Argument decimal(BigDecimal value) {
        return value == null ? NULL_NUMERIC : new Arg(Types.NUMERIC, value);
    }

    static Argument bytes(byte[] value) {
        return value == null ? NULL_BYTES : new Arg(Types.VARBINARY, value);
    }

    /** An instant as the store keeps it ({@link Db#stored}): a timestamp with time zone in UTC, as Jdbi's factory here binds it. */
    static Argument time(Instant value) {
        return value == null ? NULL_TIME
                : new Arg(Types.TIMESTAMP_WITH_TIMEZONE, OffsetDateTime.ofInstant(Db.stored(value), ZoneOffset.UTC));
    }

    /** A value and the JDBC type it is set as; null is set as a null of that type. */
    private record Arg(int sqlType, Object value) implements Argument {
        @Override
        public void apply(int position, PreparedStatement statement, StatementContext ctx) throws SQLException {
            if (value == null) {
                statement.setNull(position, sqlType);
                return;
            }
            switch (sqlType) {
                case Types.VARCHAR -> statement.setString(position, (String) value);
                case Types.BIGINT -> statement.setLong(position, (Long) value);
                case Types.INTEGER -> statement.setInt(position, (Integer) value);
                case Types.BOOLEAN -> statement.setBoolean(position, (Boolean) value);
                case Types.DOUBLE -> statement.setDouble(position, (Double) value);
                case Types.NUMERIC -> statement.setBigDecimal(position, (BigDecimal) value);
                case Types.VARBINARY -> statement.setBytes(position, (byte[]) value);
                default -> statement.setObject(position, value);
            }
        }

        @Override
        public String toString() {
            return value instanceof byte[] b ? b.length + " bytes" : String.valueOf(value);
        }
    }
}
