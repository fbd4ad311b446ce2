package dev.parley.adapter.jdbc;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.out.MessageStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Messages in {@code parley_messages}. Appending bumps the thread's {@code message_count} and moves its
 * {@code updated_at} (which locks the thread row until the transaction ends, so concurrent appends take
 * turns) and inserts one row at that position: the cost does not depend on the thread's length. On
 * PostgreSQL both are one statement.
 */
final class JdbiMessageStore implements MessageStore {
    private static final String COLUMNS =
            "id, thread_id, position, run_id, role, status, content, tool_calls, tool_call_id, metadata, created_at";

    /** A position below every message's: the cursor of the first oldest-first page. */
    static final long BEFORE_FIRST = Long.MIN_VALUE;
    /** A position above every message's: the cursor of the first newest-first page and of the history window. */
    static final long AFTER_LAST = Long.MAX_VALUE;

    private final Db db;
    /** H2: takes the thread's next position (and moves its updated_at); {@link #insert} then stores the row. */
    private final String nextPosition;
    private final String insert;
    /** PostgreSQL: both in one statement that yields the position. */
    private final String appendReturning;
    private final String find;
    /** Messages after position {@code :after}, oldest first; the first page starts after {@link #BEFORE_FIRST}. */
    final String pageAsc;
    /** Messages before position {@code :after}, newest first; the first page starts before {@link #AFTER_LAST}. */
    final String pageDesc;
    private final String count;

    JdbiMessageStore(Db db) {
        this.db = db;
        String messages = db.table("parley_messages");
        Dialect d = db.dialect();
        String threads = db.table("parley_threads");
        String bump = "UPDATE " + threads + " SET message_count = message_count + 1,"
                + " updated_at = GREATEST(updated_at, :created) WHERE id = :thread";
        String values = ":run, :role, :status, " + d.json("content") + ", " + d.json("tool_calls") + ", :tool_call_id, "
                + d.json("metadata") + ", :created";
        nextPosition = d == Dialect.H2 ? "SELECT message_count FROM FINAL TABLE (" + bump + ")" : null;
        insert = "INSERT INTO " + messages + " (" + COLUMNS + ") VALUES (:id, :thread, :position, " + values + ")";
        appendReturning = d == Dialect.POSTGRESQL
                ? "WITH p AS (" + bump + " RETURNING message_count) INSERT INTO " + messages + " (" + COLUMNS + ")"
                        + " SELECT :id, :thread, p.message_count, " + values + " FROM p RETURNING position"
                : null;
        String select = "SELECT " + COLUMNS + " FROM " + messages;
        // messages of a soft-deleted thread are hidden with it
        String live = " AND EXISTS (SELECT 1 FROM " + threads + " t WHERE t.id = :thread AND t.deleted_at IS NULL)";
        find = select + " m WHERE m.id = :id AND EXISTS (SELECT 1 FROM " + threads
                + " t WHERE t.id = m.thread_id AND t.deleted_at IS NULL)";
        // thread_id leads the ORDER BY, and every page, the first too, has a range on position: only then does H2
        // walk the unique (thread_id, position) index and stop after the page, rather than read the whole thread
        // through the foreign key's index and sort it
        pageAsc = select + " WHERE thread_id = :thread AND position > :after" + live
                + " ORDER BY thread_id, position LIMIT :limit";
        pageDesc = select + " WHERE thread_id = :thread AND position < :after" + live
                + " ORDER BY thread_id DESC, position DESC LIMIT :limit";
        count = "SELECT message_count FROM " + threads + " WHERE id = :thread AND deleted_at IS NULL";
    }

    @Override
    public Message append(Message message) {
        Instant createdAt = Db.stored(message.createdAt());
        if (appendReturning != null) {
            long position = db.call(h -> bind(h.createQuery(appendReturning), message, createdAt)
                    .mapTo(Long.class).findOne()
                    .orElseThrow(() -> NotFoundException.thread(message.threadId())));
            return stored(message, position, createdAt);
        }
        return db.atomic(h -> {
            long position = h.createQuery(nextPosition).bind("thread", message.threadId().value())
                    .bind("created", createdAt)
                    .mapTo(Long.class).findOne()
                    .orElseThrow(() -> NotFoundException.thread(message.threadId()));
            bind(h.createUpdate(insert), message, createdAt).bind("position", position).execute();
            return stored(message, position, createdAt);
        });
    }

    private static <S extends SqlStatement<S>> S bind(S statement, Message message, Instant createdAt) {
        return statement
                .bind("id", message.id().value())
                .bind("thread", message.threadId().value())
                .bind("run", message.runId() == null ? null : message.runId().value())
                .bind("role", message.role().wireName())
                .bind("status", message.status().wireName())
                .bind("content", Json.content(message.content()))
                .bind("tool_calls", Json.toolCalls(message.toolCalls()))
                .bind("tool_call_id", Text.put(message.toolCallId()))
                .bind("metadata", Json.metadata(message.metadata()))
                .bind("created", createdAt);
    }

    private static Message stored(Message message, long position, Instant createdAt) {
        return new Message(message.id(), message.threadId(), message.runId(), position, message.role(),
                message.content(), message.status(), message.toolCalls(), message.toolCallId(), message.metadata(), createdAt);
    }

    @Override
    public Optional<Message> find(MessageId id) {
        return db.call(h -> h.createQuery(find).bind("id", id.value()).map((rs, ctx) -> message(rs)).findOne());
    }

    @Override
    public Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order) {
        boolean asc = order == SortOrder.ASC;
        String kind = asc ? "ma" : "md";
        long after = page.cursor() != null ? Cursors.position(kind, page.cursor()) : asc ? BEFORE_FIRST : AFTER_LAST;
        List<Message> rows = db.call(h -> h.createQuery(asc ? pageAsc : pageDesc).bind("thread", threadId.value())
                .bind("after", after).bind("limit", page.limit() + 1).map((rs, ctx) -> message(rs)).list());
        if (rows.size() <= page.limit()) {
            return Page.last(rows);
        }
        List<Message> items = rows.subList(0, page.limit());
        return new Page<>(items, true, Cursors.position(kind, items.get(items.size() - 1).position()));
    }

    @Override
    public List<Message> latest(ThreadId threadId, int max) {
        Require.that(max >= 0, "max must not be negative");
        if (max == 0) {
            return List.of();
        }
        List<Message> newestFirst = db.call(h -> h.createQuery(pageDesc).bind("thread", threadId.value())
                .bind("after", AFTER_LAST).bind("limit", max).map((rs, ctx) -> message(rs)).list());
        List<Message> oldestFirst = new ArrayList<>(newestFirst);
        Collections.reverse(oldestFirst);
        return oldestFirst;
    }

    @Override
    public long count(ThreadId threadId) {
        return db.call(h -> h.createQuery(count).bind("thread", threadId.value()).mapTo(Long.class).findOne().orElse(0L));
    }

    static Message message(ResultSet rs) throws SQLException {
        String run = rs.getString("run_id");
        return new Message(
                new MessageId(rs.getString("id")),
                new ThreadId(rs.getString("thread_id")),
                run == null ? null : new RunId(run),
                rs.getLong("position"),
                Json.wire(Role.class, rs.getString("role")),
                Json.content(rs.getString("content")),
                Json.wire(MessageStatus.class, rs.getString("status")),
                Json.toolCalls(rs.getString("tool_calls")),
                Text.get(rs.getString("tool_call_id")),
                Json.metadata(rs.getString("metadata")),
                Db.instant(rs, "created_at"));
    }
}
