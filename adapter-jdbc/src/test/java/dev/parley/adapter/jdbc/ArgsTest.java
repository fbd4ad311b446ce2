package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The arguments the turn's statements bind: each value written as its column's type and read back, nulls too. */
class ArgsTest {
    private Handle h;

    @BeforeEach
    void open() {
        h = Jdbi.create("jdbc:h2:mem:args-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1").open();
        h.execute("CREATE TABLE t (s VARCHAR(100), l BIGINT, i INTEGER, b BOOLEAN, d DOUBLE PRECISION, n NUMERIC(20, 10),"
                + " y VARBINARY(100), ts TIMESTAMP WITH TIME ZONE)");
    }

    @AfterEach
    void close() {
        h.close();
    }

    @Test
    void should_write_each_value_as_its_type() {
        Instant at = Instant.parse("2026-12-08T01:02:03.456789Z");
        h.createUpdate("INSERT INTO t VALUES (:s, :l, :i, :b, :d, :n, :y, :ts)")
                .bind("s", Args.text("é \" \u0000-free"))
                .bind("l", Args.int64(Long.MAX_VALUE))
                .bind("i", Args.int32(Integer.valueOf(-7)))
                .bind("b", Args.bool(true))
                .bind("d", Args.float64(0.25))
                .bind("n", Args.decimal(new BigDecimal("12.3456789012")))
                .bind("y", Args.bytes(new byte[] {1, 2, 3}))
                .bind("ts", Args.time(at))
                .execute();

        Map<String, Object> row = h.createQuery("SELECT * FROM t").mapToMap().one();
        assertThat(row).containsEntry("s", "é \" \u0000-free").containsEntry("l", Long.MAX_VALUE).containsEntry("i", -7)
                .containsEntry("b", true).containsEntry("d", 0.25);
        assertThat((BigDecimal) row.get("n")).isEqualByComparingTo("12.3456789012");
        assertThat((byte[]) row.get("y")).containsExactly(1, 2, 3);
        assertThat(h.createQuery("SELECT ts FROM t").mapTo(OffsetDateTime.class).one().toInstant()).isEqualTo(Db.stored(at));
    }

    @Test
    void should_write_a_null_of_every_type() {
        h.createUpdate("INSERT INTO t VALUES (:s, :l, :i, :b, :d, :n, :y, :ts)")
                .bind("s", Args.text(null))
                .bind("l", Args.int64((Long) null))
                .bind("i", Args.int32((Integer) null))
                .bind("b", Args.bool((Boolean) null))
                .bind("d", Args.float64(null))
                .bind("n", Args.decimal(null))
                .bind("y", Args.bytes(null))
                .bind("ts", Args.time(null))
                .execute();

        assertThat(h.createQuery("SELECT * FROM t").mapToMap().one()).hasSize(8).allSatisfy((column, value) -> assertThat(value).isNull());
    }

    @Test
    void should_name_the_bound_values_when_a_statement_fails() {
        UnableToExecuteStatementException failure = org.assertj.core.api.Assertions.catchThrowableOfType(
                UnableToExecuteStatementException.class,
                () -> h.createUpdate("INSERT INTO t (s, i) VALUES (:s, :i)")
                        .bind("s", Args.text("x".repeat(101)))
                        .bind("i", Args.int32(41))
                        .execute());

        assertThat(failure.getMessage()).contains("x".repeat(101)).contains("41");
    }
}
