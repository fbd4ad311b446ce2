package dev.parley.adapter.jdbc;

import java.util.Locale;

/** What differs between the supported databases: migrations, JSON binding, and a few statements. */
enum Dialect {
    POSTGRESQL("postgresql") {
        @Override
        String json(String parameter) {
            return "CAST(:" + parameter + " AS jsonb)";
        }

        @Override
        String useIndex(String index) {
            return "";
        }
    },
    H2("h2") {
        @Override
        String json(String parameter) {
            return ":" + parameter;
        }

        @Override
        String useIndex(String index) {
            return " USE INDEX (" + index + ")";
        }
    };

    private final String folder;

    Dialect(String folder) {
        this.folder = folder;
    }

    /** The Flyway location of this database's migrations. */
    String migrations() {
        return "classpath:db/parley/" + folder;
    }

    /** The SQL expression that binds named parameter {@code parameter} into a JSON column. */
    abstract String json(String parameter);

    /**
     * The table hint, placed after a table name, that makes the planner read {@code index}, or nothing where
     * the planner needs no hint. H2 costs an equality on a foreign key's own index like one on a composite index
     * that also serves the ORDER BY, and may pick the former, then read every matching row and sort.
     */
    abstract String useIndex(String index);

    /**
     * An {@code UPDATE} that changes nothing ({@code column = column}) and so only takes the locks of the rows
     * of {@code table} that {@code where} matches, until the transaction ends. H2 caches no
     * {@code SELECT ... FOR UPDATE} (it would parse such a lock again on every call) and locks a row before it
     * compares values; PostgreSQL takes the same row lock.
     */
    static String lockingUpdate(String table, String column, String where) {
        return "UPDATE " + table + " SET " + column + " = " + column + " WHERE " + where;
    }

    /** The dialect of the database that reports {@code productName} in its connection metadata. */
    static Dialect of(String productName) {
        String name = productName == null ? "" : productName.toLowerCase(Locale.ROOT);
        if (name.contains("postgresql")) {
            return POSTGRESQL;
        }
        if (name.equals("h2")) {
            return H2;
        }
        throw new IllegalArgumentException("Unsupported database " + productName + ": Parley's JDBC store runs on PostgreSQL and H2");
    }
}
