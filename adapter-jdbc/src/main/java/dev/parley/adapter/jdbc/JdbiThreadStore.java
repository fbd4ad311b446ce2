package dev.parley.adapter.jdbc;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.ThreadStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.statement.Query;

/** Threads in {@code parley_threads}; soft delete sets {@code deleted_at}. */
final class JdbiThreadStore implements ThreadStore {
    private static final String COLUMNS = "id, owner_id, agent_id, title, metadata, created_at, updated_at, deleted_at, agent_version";
    /** What a read returns: the columns written and the usage totals the ledger keeps. */
    private static final String READ = COLUMNS + ", runs_count AS runs, input_tokens, cached_input_tokens, output_tokens, cost_usd,"
            + " unpriced_runs";
    private static final String CURSOR_KIND = "t1";
    private static final String DELETED_CURSOR_KIND = "t2";

    private final Db db;
    private final String insert;
    private final String find;
    private final String lock;
    private final String update;
    final String[] list = new String[4];
    private final String softDelete;
    private final String lockAny;
    private final List<String> hardDelete;
    private final UsageFolding folding;
    private final String findDeleted;
    private final String[] listDeleted = new String[2];
    private final String restore;
    private final String deletedBefore;
    private final String lockDeleted;

    /** {@code folding}: the ledger's, which a hard delete runs first for the thread; null without a ledger. */
    JdbiThreadStore(Db db, UsageFolding folding) {
        this.db = db;
        this.folding = folding;
        String threads = db.table("parley_threads");
        String runs = db.table("parley_runs");
        insert = "INSERT INTO " + threads + " (" + COLUMNS + ", message_count) VALUES (:id, :owner, :agent, :title, "
                + db.dialect().json("metadata") + ", :created, :updated, :deleted, :agent_version, 0)";
        find = "SELECT " + READ + " FROM " + threads + " WHERE id = :id AND deleted_at IS NULL";
        // H2 caches no SELECT ... FOR UPDATE (it would parse the thread's lock again on every send): there an
        // UPDATE that changes nothing takes the row's lock, and the row is read from its FINAL TABLE, one statement
        lock = db.dialect() == Dialect.POSTGRESQL ? find + " FOR UPDATE"
                : "SELECT " + READ + " FROM FINAL TABLE (" + Dialect.lockingUpdate(threads, "message_count", "id = :id AND deleted_at IS NULL") + ")";
        update = "UPDATE " + threads + " SET title = :title, metadata = " + db.dialect().json("metadata")
                + ", updated_at = :updated WHERE id = :id AND deleted_at IS NULL";
        for (int variant = 0; variant < list.length; variant++) {
            list[variant] = "SELECT " + READ + " FROM " + threads + " WHERE owner_id = :owner AND deleted_at IS NULL"
                    + ((variant & 1) != 0 ? " AND agent_id = :agent" : "")
                    + ((variant & 2) != 0 ? " AND updated_at <= :after_at AND (updated_at < :after_at OR id < :after_id)" : "")
                    // the equality columns lead the ORDER BY too, so that H2 also reads the index in order
                    + " ORDER BY owner_id, " + ((variant & 1) != 0 ? "agent_id, " : "") + "updated_at DESC, id DESC LIMIT :limit";
        }
        lockAny = "SELECT id FROM " + threads + " WHERE id = :id FOR UPDATE";
        softDelete = "UPDATE " + threads + " SET deleted_at = :now WHERE id = :id AND deleted_at IS NULL";
        findDeleted = "SELECT " + READ + " FROM " + threads + " WHERE id = :id AND deleted_at IS NOT NULL";
        for (int variant = 0; variant < listDeleted.length; variant++) {
            listDeleted[variant] = "SELECT " + READ + " FROM " + threads + db.dialect().useIndex("parley_threads_owner_deleted")
                    + " WHERE owner_id = :owner AND deleted_at IS NOT NULL"
                    + (variant == 1 ? " AND deleted_at <= :after_at AND (deleted_at < :after_at OR id < :after_id)" : "")
                    + " ORDER BY owner_id, deleted_at DESC, id DESC LIMIT :limit";
        }
        restore = "UPDATE " + threads + " SET deleted_at = NULL WHERE id = :id AND deleted_at IS NOT NULL";
        deletedBefore = "SELECT id FROM " + threads + db.dialect().useIndex("parley_threads_deleted")
                + " WHERE deleted_at IS NOT NULL AND deleted_at <= :before ORDER BY deleted_at, id LIMIT :limit";
        lockDeleted = "SELECT id FROM " + threads + " WHERE id = :id AND deleted_at IS NOT NULL AND deleted_at <= :before FOR UPDATE";
        String ofThread = "(SELECT id FROM " + runs + " WHERE thread_id = :id)";
        hardDelete = List.of(
                "DELETE FROM " + db.table("parley_run_event_chunks") + " WHERE run_id IN " + ofThread,
                "DELETE FROM " + db.table("parley_run_events") + " WHERE run_id IN " + ofThread,
                "DELETE FROM " + db.table("parley_steps") + " WHERE run_id IN " + ofThread,
                "DELETE FROM " + db.table("parley_idempotency_keys") + " WHERE thread_id = :id",
                "DELETE FROM " + runs + " WHERE thread_id = :id",
                "DELETE FROM " + db.table("parley_messages") + " WHERE thread_id = :id",
                "DELETE FROM " + db.table("parley_branches") + " WHERE thread_id = :id",
                "DELETE FROM " + threads + " WHERE id = :id");
    }

    @Override
    public void insert(ChatThread thread) {
        db.call(h -> h.createUpdate(insert)
                .bind("id", thread.id().value())
                .bind("owner", Text.put(thread.ownerId()))
                .bind("agent", thread.agentId())
                .bind("title", Text.put(thread.title()))
                .bind("metadata", Json.metadata(thread.metadata()))
                .bind("created", thread.createdAt())
                .bind("updated", thread.updatedAt())
                .bindByType("deleted", thread.deletedAt(), Instant.class)
                .bindByType("agent_version", thread.agentVersion(), Integer.class)
                .execute());
    }

    @Override
    public Optional<ChatThread> find(ThreadId id) {
        return db.call(h -> h.createQuery(find).bind("id", id.value()).map((rs, ctx) -> thread(rs)).findOne());
    }

    @Override
    public Optional<ChatThread> lock(ThreadId id) {
        return db.call(h -> h.createQuery(lock).bind("id", Args.text(id.value())).map((rs, ctx) -> thread(rs)).findOne());
    }

    @Override
    public boolean update(ChatThread thread) {
        return db.call(h -> h.createUpdate(update)
                .bind("id", thread.id().value())
                .bind("title", Text.put(thread.title()))
                .bind("metadata", Json.metadata(thread.metadata()))
                .bind("updated", thread.updatedAt())
                .execute()) == 1;
    }

    @Override
    public Page<ChatThread> list(String ownerId, String agentId, PageRequest page) {
        Cursors.TimeKey after = page.cursor() == null ? null : Cursors.time(CURSOR_KIND, page.cursor(), ThreadId.PREFIX);
        List<ChatThread> rows = db.call(h -> {
            Query q = h.createQuery(list[(agentId == null ? 0 : 1) + (after == null ? 0 : 2)])
                    .bind("owner", Text.put(ownerId))
                    .bind("limit", page.limit() + 1);
            if (agentId != null) {
                q.bind("agent", agentId);
            }
            if (after != null) {
                q.bind("after_at", after.at()).bind("after_id", after.id());
            }
            return q.map((rs, ctx) -> thread(rs)).list();
        });
        if (rows.size() <= page.limit()) {
            return Page.last(rows);
        }
        List<ChatThread> items = rows.subList(0, page.limit());
        ChatThread last = items.get(items.size() - 1);
        return new Page<>(items, true, Cursors.time(CURSOR_KIND, last.updatedAt(), last.id().value()));
    }

    @Override
    public boolean softDelete(ThreadId id, Instant now) {
        return db.call(h -> h.createUpdate(softDelete).bind("id", id.value()).bind("now", now).execute()) == 1;
    }

    @Override
    public boolean hardDelete(ThreadId id) {
        return db.atomic(h -> {
            h.createQuery(lockAny).bind("id", id.value()).mapTo(String.class).findOne();
            if (folding != null) {
                folding.foldThread(h, id.value()); // the ledger keeps the usage of deleted threads
            }
            int removed = 0;
            for (String sql : hardDelete) {
                removed += h.createUpdate(sql).bind("id", id.value()).execute();
            }
            return removed > 0;
        });
    }

    @Override
    public Optional<ChatThread> findDeleted(ThreadId id) {
        return db.call(h -> h.createQuery(findDeleted).bind("id", id.value()).map((rs, ctx) -> thread(rs)).findOne());
    }

    @Override
    public Page<ChatThread> listDeleted(String ownerId, PageRequest page) {
        Cursors.TimeKey after = page.cursor() == null ? null : Cursors.time(DELETED_CURSOR_KIND, page.cursor(), ThreadId.PREFIX);
        List<ChatThread> rows = db.call(h -> {
            Query q = h.createQuery(listDeleted[after == null ? 0 : 1])
                    .bind("owner", Text.put(ownerId))
                    .bind("limit", page.limit() + 1);
            if (after != null) {
                q.bind("after_at", after.at()).bind("after_id", after.id());
            }
            return q.map((rs, ctx) -> thread(rs)).list();
        });
        if (rows.size() <= page.limit()) {
            return Page.last(rows);
        }
        List<ChatThread> items = rows.subList(0, page.limit());
        ChatThread last = items.get(items.size() - 1);
        return new Page<>(items, true, Cursors.time(DELETED_CURSOR_KIND, last.deletedAt(), last.id().value()));
    }

    @Override
    public boolean restore(ThreadId id) {
        return db.call(h -> h.createUpdate(restore).bind("id", id.value()).execute()) == 1;
    }

    @Override
    public List<ThreadId> deletedBefore(Instant before, int max) {
        if (max <= 0) {
            return List.of();
        }
        return db.call(h -> h.createQuery(deletedBefore).bind("before", before).bind("limit", max)
                .map((rs, ctx) -> new ThreadId(rs.getString("id"))).list());
    }

    @Override
    public boolean purge(ThreadId id, Instant before) {
        return db.atomic(h -> {
            if (h.createQuery(lockDeleted).bind("id", id.value()).bind("before", before).mapTo(String.class).findOne().isEmpty()) {
                return false;
            }
            return hardDelete(id);
        });
    }

    static ChatThread thread(ResultSet rs) throws SQLException {
        return new ChatThread(
                new ThreadId(rs.getString("id")),
                Text.get(rs.getString("owner_id")),
                rs.getString("agent_id"),
                Text.get(rs.getString("title")),
                Json.metadata(rs.getString("metadata")),
                Db.instant(rs, "created_at"),
                Db.instant(rs, "updated_at"),
                Db.instant(rs, "deleted_at"),
                rs.getObject("agent_version") == null ? null : rs.getInt("agent_version"),
                JdbiUsageStore.totals(rs));
    }
}
