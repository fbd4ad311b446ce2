package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.Require;
import dev.parley.chat.port.out.JobLeases;
import java.time.Instant;

/** Job leases in {@code parley_job_leases}: one row per job, taken by a conditional update or a first insert. */
final class JdbiJobLeases implements JobLeases {
    private final Db db;
    private final String take;
    private final String insert;
    private final String release;

    JdbiJobLeases(Db db) {
        this.db = db;
        String table = db.table("parley_job_leases");
        take = "UPDATE " + table + " SET holder = :holder, expires_at = :until"
                + " WHERE name = :name AND (holder = :holder OR expires_at <= :now)";
        insert = "INSERT INTO " + table + " (name, holder, expires_at) VALUES (:name, :holder, :until)"
                + (db.dialect() == Dialect.POSTGRESQL ? " ON CONFLICT (name) DO NOTHING" : "");
        release = "DELETE FROM " + table + " WHERE name = :name AND holder = :holder";
    }

    @Override
    public boolean tryAcquire(String name, String holder, Instant now, Instant until) {
        Require.notBlank(name, "name");
        Require.notBlank(holder, "holder");
        Require.notNull(now, "now");
        Require.notNull(until, "until");
        boolean taken = db.call(h -> h.createUpdate(take).bind("name", name).bind("holder", Text.put(holder))
                .bind("until", until).bind("now", now).execute()) == 1;
        if (taken) {
            return true;
        }
        try {
            return db.call(h -> h.createUpdate(insert).bind("name", name).bind("holder", Text.put(holder))
                    .bind("until", until).execute()) == 1;
        } catch (ConflictException e) {
            // another server inserted it first: theirs
            return false;
        }
    }

    @Override
    public void release(String name, String holder) {
        db.call(h -> h.createUpdate(release).bind("name", name).bind("holder", Text.put(holder)).execute());
    }
}
