package dev.parley.adapter.jdbc;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Require;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.MessageStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Messages in {@code parley_messages}, a tree kept as branches ({@code parley_branches}, see the
 * V4 migration). An append is three statements whatever the thread's size: it locks the thread row
 * while moving its active leaf and counters (concurrent appends take turns), looks up its parent by
 * key, and inserts the row (and a branch row when it forks); on PostgreSQL the look-up and the insert
 * of a message that does not fork are one statement. A page of the active
 * path reads the leaf's branch chain with one indexed join, then one index range per branch the
 * page crosses (usually one); on PostgreSQL a read from the newest (a run's history window, a first
 * newest-first page) reads the leaf's branch in the statement that finds the leaf, and the chain only
 * when it reaches past the branch's start. The tree's other operations are in {@link MessageTree}.
 */
final class JdbiMessageStore implements MessageStore {
    static final String COLUMNS = "id, thread_id, position, run_id, role, status, content, tool_calls, tool_call_id, metadata,"
            + " created_at, parent_id, thinking, input_tokens, cached_input_tokens, output_tokens, usage_estimated";

    /** A position below every message's: the cursor of the first oldest-first page. */
    static final long BEFORE_FIRST = Long.MIN_VALUE;
    /** A position above every message's: the cursor of the first newest-first page and of the history window. */
    static final long AFTER_LAST = Long.MAX_VALUE;

    private final Db db;
    private final MessageTree tree;
    /** Locks the thread row, counts the message, moves the leaf to it and returns the leaf before. */
    private final String moveLeaf;
    /** As {@link #moveLeaf}, leaving the active leaf where it is. */
    private final String keepLeaf;
    private final String parent;
    /**
     * PostgreSQL: {@link #parent}'s look-up and, when the slot below the parent is free (the message does not
     * fork), the message's insert, in one statement; null on H2, which has no data-changing common table expressions.
     */
    private final String parentAndInsert;
    private final String roots;
    private final String insertBranch;
    private final String insert;
    private final String find;
    private final String chain;
    /**
     * The newest messages of the active path's last piece (the leaf's branch, up to the leaf), without reading
     * {@link #chain} first, on PostgreSQL (null on H2). The leaf is found by uncorrelated subqueries, evaluated
     * once before the scan, so PostgreSQL walks the {@code (branch_id, position)} index backwards and stops at the
     * limit. H2 has no round trip to save and would evaluate the subqueries again for every row it returns.
     */
    final String newestOnPath;
    /** Messages of one branch with {@code :lo < position <= :hi}, oldest first. */
    final String pieceAsc;
    /** Messages of one branch with {@code :lo <= position < :hi}, newest first. */
    final String pieceDesc;
    private final String count;
    private final String updateMetadata;
    private final String moveLeafCounting;

    /** {@code folding}: the ledger's (see {@link MessageTree}); null without a ledger. */
    JdbiMessageStore(Db db, UsageFolding folding) {
        this.db = db;
        String messages = db.table("parley_messages");
        String branches = db.table("parley_branches");
        String threads = db.table("parley_threads");
        Dialect d = db.dialect();
        String bump = "message_count = message_count + 1, updated_at = GREATEST(updated_at, :created)";
        // the thread row is locked before any message is read (in a statement of its own, so that the reads
        // that follow see what the appends before this one committed)
        moveLeaf = bumpThread(d, threads, bump + ", active_leaf_id = :id");
        keepLeaf = bumpThread(d, threads, bump);
        // a completed run's answer: the run's usage joins the thread's totals in the same change of its row
        moveLeafCounting = bumpThread(d, threads, bump + ", active_leaf_id = :id, " + JdbiUsageStore.ADD_TO_THREAD);
        // the parent's place, whether the slot below it on its branch is taken (then the message forks), and how
        // many siblings of the message's role it has already (its versions)
        parent = "SELECT p.branch_id, p.position, b.chain, (SELECT COUNT(*) FROM " + messages + " n WHERE n.branch_id = p.branch_id"
                + " AND n.position = p.position + 1) AS taken, (SELECT COUNT(*) FROM " + messages + " s WHERE s.thread_id = :thread"
                + " AND s.parent_id = p.id AND s.role = :role) AS siblings FROM " + messages + " p JOIN " + branches
                + " b ON b.id = p.branch_id WHERE p.id = :parent AND p.thread_id = :thread";
        String values = ":id, :thread, %s, :run, :role, :status, " + d.json("content") + ", " + d.json("tool_calls") + ", :tool_call_id, "
                + d.json("metadata") + ", %s, :parent, :thinking, :input_tokens, :cached_input_tokens, :output_tokens, :usage_estimated, %s";
        // one round trip fewer per append: the statement sees what its own snapshot sees, taken after the thread's
        // row was locked by the statement before, so the parent committed by the append before this one is there
        parentAndInsert = d != Dialect.POSTGRESQL ? null
                : "WITH p AS (" + parent + "), i AS (INSERT INTO " + messages + " (" + COLUMNS + ", branch_id) SELECT "
                        + String.format(Locale.ROOT, values, "p.position + 1", "CAST(:created AS timestamptz)", "p.branch_id")
                        + " FROM p WHERE p.taken = 0 RETURNING 1) SELECT p.branch_id, p.position, p.chain, p.taken, p.siblings,"
                        + " (SELECT COUNT(*) FROM i) FROM p";
        roots = "SELECT COUNT(*) FROM " + messages + " WHERE thread_id = :thread AND parent_id IS NULL AND role = :role";
        insertBranch = "INSERT INTO " + branches + " (id, thread_id, parent_id, start_position, chain)"
                + " VALUES (:id, :thread, :parent, :start, :chain)";
        insert = "INSERT INTO " + messages + " (" + COLUMNS + ", branch_id) VALUES ("
                + String.format(Locale.ROOT, values, ":position", ":created", ":branch") + ")";
        String select = "SELECT " + COLUMNS + " FROM " + messages;
        find = select + " m WHERE m.id = :id AND EXISTS (SELECT 1 FROM " + threads
                + " t WHERE t.id = m.thread_id AND t.deleted_at IS NULL)";
        chain = "SELECT m.position, b.chain, m.id FROM " + threads + " t JOIN " + messages + " m ON m.id = t.active_leaf_id JOIN "
                + branches + " b ON b.id = m.branch_id WHERE t.id = :thread AND t.deleted_at IS NULL";
        String ofLeaf = " FROM " + threads + " t JOIN " + messages + " l ON l.id = t.active_leaf_id"
                + " WHERE t.id = :thread AND t.deleted_at IS NULL)";
        newestOnPath = d != Dialect.POSTGRESQL ? null : select + " WHERE branch_id = (SELECT l.branch_id" + ofLeaf + " AND position <= (SELECT l.position" + ofLeaf
                + " ORDER BY branch_id DESC, position DESC LIMIT :limit";
        // branch_id leads the ORDER BY and every read has a range on position: H2 then walks the unique
        // (branch_id, position) index and stops after the page
        pieceAsc = select + " WHERE branch_id = :branch AND position > :lo AND position <= :hi"
                + " ORDER BY branch_id, position LIMIT :limit";
        pieceDesc = select + " WHERE branch_id = :branch AND position >= :lo AND position < :hi"
                + " ORDER BY branch_id DESC, position DESC LIMIT :limit";
        count = "SELECT message_count FROM " + threads + " WHERE id = :thread AND deleted_at IS NULL";
        updateMetadata = "UPDATE " + messages + " SET metadata = " + d.json("metadata") + " WHERE id = :id";
        tree = new MessageTree(db, this, folding);
    }

    /** Locks the thread row, applies {@code set} and returns the active leaf before. */
    private static String bumpThread(Dialect d, String threads, String set) {
        return d == Dialect.POSTGRESQL
                ? "UPDATE " + threads + " t SET " + set.replace("message_count +", "t.message_count +")
                        .replace("GREATEST(updated_at", "GREATEST(t.updated_at") + " FROM (SELECT id, active_leaf_id FROM " + threads
                        + " WHERE id = :thread FOR UPDATE) o WHERE t.id = o.id RETURNING o.active_leaf_id"
                : "SELECT active_leaf_id FROM OLD TABLE (UPDATE " + threads + " SET " + set + " WHERE id = :thread)";
    }

    @Override
    public Message append(Message message) {
        return db.atomic(h -> insert(h, message, null, true, true, null));
    }

    @Override
    public Message appendTo(Message message, MessageId parentId) {
        return db.atomic(h -> insert(h, message, parentId, false, true, null));
    }

    @Override
    public Message appendAside(Message message, MessageId parentId) {
        return db.atomic(h -> insert(h, message, parentId, false, false, null));
    }

    /**
     * {@link #append}, adding the usage of {@code completed} (the run the answer ends) to the thread's
     * totals in the same update of the thread's row, on the caller's transaction.
     */
    Message appendCounting(Message answer, Run completed) {
        return db.atomic(h -> insert(h, answer, null, true, true, completed));
    }

    private Message insert(Handle h, Message message, MessageId explicitParent, boolean belowLeaf, boolean becomesLeaf,
                            Run counted) {
        String thread = message.threadId().value();
        Instant createdAt = Db.stored(message.createdAt());
        Query bumped = h.createQuery(counted != null ? moveLeafCounting : becomesLeaf ? moveLeaf : keepLeaf)
                .bind("thread", Args.text(thread)).bind("created", Args.time(createdAt));
        if (becomesLeaf) {
            bumped.bind("id", Args.text(message.id().value()));
        }
        if (counted != null) {
            JdbiUsageStore.bindThreadTotals(bumped, counted);
        }
        Optional<Optional<String>> leaf = bumped.map((rs, ctx) -> Optional.ofNullable(rs.getString(1))).findOne();
        if (leaf.isEmpty()) {
            throw NotFoundException.thread(message.threadId());
        }
        MessageId parentId = belowLeaf ? leaf.get().map(MessageId::new).orElse(null) : explicitParent;
        String branch = message.id().value();
        long position = 1;
        String branchChain = branch + "@1";
        String parentBranch = null;
        long siblings;
        boolean inserted = false;
        if (parentId != null) {
            Query look = parentAndInsert != null ? bindMessage(h.createQuery(parentAndInsert), message, parentId, createdAt)
                    : h.createQuery(parent).bind("parent", Args.text(parentId.value())).bind("thread", Args.text(thread))
                            .bind("role", Args.text(message.role().wireName()));
            ParentRow p = look.map((rs, ctx) -> new ParentRow(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getLong(4) > 0,
                            rs.getLong(5), parentAndInsert != null && rs.getLong(6) > 0))
                    .findOne().orElseThrow(() -> NotFoundException.message(parentId));
            position = p.position + 1;
            siblings = p.siblings;
            inserted = p.inserted;
            if (p.taken) {
                parentBranch = p.branch;
                branchChain = p.chain + " " + branch + "@" + position;
            } else {
                branch = p.branch;
                branchChain = null;
            }
        } else {
            siblings = h.createQuery(roots).bind("thread", thread).bind("role", message.role().wireName())
                    .mapTo(Long.class).one();
        }
        if (branchChain != null) {
            h.createUpdate(insertBranch).bind("id", branch).bind("thread", thread).bind("parent", parentBranch)
                    .bind("start", position).bind("chain", branchChain).execute();
        }
        if (!inserted) {
            bindMessage(h.createUpdate(insert), message, parentId, createdAt).bind("position", Args.int64(position))
                    .bind("branch", Args.text(branch)).execute();
        }
        Usage usage = message.usage();
        // the newest of its siblings: the last of its versions
        int versions = (int) siblings + 1;
        return new Message(message.id(), message.threadId(), message.runId(), position, message.role(),
                message.content(), message.status(), message.toolCalls(), message.toolCallId(), message.metadata(), createdAt,
                parentId, message.thinking(), usage, new Message.Versions(versions, versions));
    }

    /** The message's own columns (all but its position and branch) bound on {@code statement}. */
    private static <S extends SqlStatement<S>> S bindMessage(S statement, Message message, MessageId parentId, Instant createdAt) {
        Usage usage = message.usage();
        return statement
                .bind("id", Args.text(message.id().value()))
                .bind("thread", Args.text(message.threadId().value()))
                .bind("run", Args.text(message.runId() == null ? null : message.runId().value()))
                .bind("role", Args.text(message.role().wireName()))
                .bind("status", Args.text(message.status().wireName()))
                .bind("content", Args.text(Json.content(message.content())))
                .bind("tool_calls", Args.text(Json.toolCalls(message.toolCalls())))
                .bind("tool_call_id", Args.text(Text.put(message.toolCallId())))
                .bind("metadata", Args.text(Json.metadata(message.metadata())))
                .bind("created", Args.time(createdAt))
                .bind("parent", Args.text(parentId == null ? null : parentId.value()))
                .bind("thinking", Args.text(Text.put(message.thinking())))
                .bind("input_tokens", usage == null ? Args.int64((Long) null) : Args.int64(usage.inputTokens()))
                .bind("cached_input_tokens", Args.int64(usage == null ? 0 : usage.cachedInputTokens()))
                .bind("output_tokens", usage == null ? Args.int64((Long) null) : Args.int64(usage.outputTokens()))
                .bind("usage_estimated", usage == null ? Args.bool((Boolean) null) : Args.bool(usage.estimated()));
    }

    /** The parent's place; {@code inserted} when the statement that read it inserted the message too. */
    private record ParentRow(String branch, long position, String chain, boolean taken, long siblings, boolean inserted) {
    }

    @Override
    public Optional<Message> find(MessageId id) {
        return db.call(h -> h.createQuery(find).bind("id", id.value()).map((rs, ctx) -> message(rs)).findOne()
                .map(m -> tree.withVersions(h, List.of(m)).get(0)));
    }

    @Override
    public Page<Message> page(ThreadId threadId, PageRequest page, SortOrder order) {
        boolean asc = order == SortOrder.ASC;
        String kind = asc ? "ma" : "md";
        long after = page.cursor() != null ? Cursors.position(kind, page.cursor()) : asc ? BEFORE_FIRST : AFTER_LAST;
        List<Message> rows = db.call(h -> tree.withVersions(h, onPath(h, threadId, after, page.limit() + 1, asc)));
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
        List<Message> oldestFirst = new ArrayList<>(db.call(h -> onPath(h, threadId, AFTER_LAST, max, false)));
        Collections.reverse(oldestFirst);
        return oldestFirst;
    }

    /**
     * Up to {@code limit} messages of the active path after position {@code after} (oldest first) or
     * before it (newest first): the leaf's chain, then one index range per piece of it the read crosses.
     */
    private List<Message> onPath(Handle h, ThreadId threadId, long after, int limit, boolean asc) {
        if (!asc && after == AFTER_LAST && newestOnPath != null) {
            return newestOnPath(h, threadId, limit);
        }
        Optional<Chain> found = chainOf(h, threadId);
        if (found.isEmpty()) {
            return List.of();
        }
        return fromPieces(h, found.get(), after, limit, asc, 0, new ArrayList<>(limit));
    }

    /**
     * Up to {@code limit} of the active path's newest messages, newest first: the leaf's branch in the statement
     * that finds the leaf; the chain, and the pieces before the leaf's, only when the read reaches them (a path
     * that forked, read past its last fork).
     */
    private List<Message> newestOnPath(Handle h, ThreadId threadId, int limit) {
        List<Message> out = new ArrayList<>(limit);
        out.addAll(h.createQuery(newestOnPath).bind("thread", Args.text(threadId.value())).bind("limit", Args.int32(limit)).map((rs, ctx) -> message(rs)).list());
        long oldest = out.isEmpty() ? 1 : out.get(out.size() - 1).position();
        if (out.size() == limit || oldest == 1) {
            return out; // the window is full, or it reached the root (or the thread is empty or deleted)
        }
        Optional<Chain> found = chainOf(h, threadId);
        if (found.isEmpty()) {
            return List.of(); // deleted meanwhile
        }
        if (!found.get().leafId().equals(out.get(0).id().value())) {
            // the leaf moved between the two reads: the path as the chain has it, read from its leaf
            return fromPieces(h, found.get(), AFTER_LAST, limit, false, 0, new ArrayList<>(limit));
        }
        return fromPieces(h, found.get(), oldest, limit, false, 0, out);
    }

    /** The active path's chain, cut at its leaf; empty for a thread without messages or a deleted one. */
    private Optional<Chain> chainOf(Handle h, ThreadId threadId) {
        return h.createQuery(chain).bind("thread", Args.text(threadId.value()))
                .map((rs, ctx) -> Chain.parse(rs.getString(2), rs.getLong(1), rs.getString(3))).findOne();
    }

    /** Adds to {@code out} the messages of {@code c}'s pieces, skipping the first {@code skip} in read order. */
    private List<Message> fromPieces(Handle h, Chain c, long after, int limit, boolean asc, int skip, List<Message> out) {
        int n = c.size();
        for (int k = skip; k < n && out.size() < limit; k++) {
            int i = asc ? k : n - 1 - k;
            long from = c.start(i);
            long to = c.end(i);
            if (asc ? to <= after : from >= after) {
                continue;
            }
            int want = limit - out.size();
            if (asc) {
                out.addAll(h.createQuery(pieceAsc).bind("branch", Args.text(c.branch(i))).bind("lo", Args.int64(Math.max(after, from - 1)))
                        .bind("hi", Args.int64(to)).bind("limit", Args.int32(want)).map((rs, ctx) -> message(rs)).list());
            } else {
                out.addAll(h.createQuery(pieceDesc).bind("branch", Args.text(c.branch(i))).bind("lo", Args.int64(from))
                        .bind("hi", Args.int64(Math.min(after, to + 1))).bind("limit", Args.int32(want)).map((rs, ctx) -> message(rs)).list());
            }
        }
        return out;
    }

    @Override
    public long count(ThreadId threadId) {
        return db.call(h -> h.createQuery(count).bind("thread", threadId.value()).mapTo(Long.class).findOne().orElse(0L));
    }

    @Override
    public Optional<MessageId> activeLeaf(ThreadId threadId) {
        return tree.activeLeaf(threadId);
    }

    @Override
    public void moveLeaf(ThreadId threadId, MessageId leafId) {
        tree.moveLeaf(threadId, leafId);
    }

    @Override
    public MessageId activate(MessageId messageId) {
        return tree.activate(messageId);
    }

    @Override
    public Page<Message> versions(MessageId messageId, PageRequest page) {
        return tree.versions(messageId, page);
    }

    @Override
    public Message updateMetadata(MessageId messageId, Map<String, String> metadata) {
        return db.atomic(h -> {
            int n = h.createUpdate(updateMetadata).bind("metadata", Json.metadata(metadata)).bind("id", messageId.value()).execute();
            Optional<Message> updated = h.createQuery(find).bind("id", messageId.value()).map((rs, ctx) -> message(rs)).findOne();
            if (n == 0 || updated.isEmpty()) {
                throw NotFoundException.message(messageId);
            }
            return tree.withVersions(h, List.of(updated.get())).get(0);
        });
    }

    @Override
    public int delete(MessageId messageId) {
        return tree.delete(messageId);
    }

    static Message message(ResultSet rs) throws SQLException {
        String run = rs.getString("run_id");
        String parentId = rs.getString("parent_id");
        long input = rs.getLong("input_tokens");
        Usage usage = rs.wasNull() ? null : new Usage(input, Math.min(input, rs.getLong("cached_input_tokens")),
                rs.getLong("output_tokens"), rs.getBoolean("usage_estimated"));
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
                Db.instant(rs, "created_at"),
                parentId == null ? null : new MessageId(parentId),
                Text.get(rs.getString("thinking")),
                usage,
                Message.Versions.ONLY);
    }

    /**
     * A branch chain cut at a leaf: piece {@code i} is branch {@code branch(i)} from position
     * {@code start(i)} to {@code end(i)}, both included; the leaf is message {@code leafId}.
     */
    record Chain(List<String> branches, long[] starts, long leafPosition, String leafId) {
        static Chain parse(String chain, long leafPosition, String leafId) {
            String[] parts = chain.split(" ");
            List<String> branches = new ArrayList<>(parts.length);
            long[] starts = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                int at = parts[i].indexOf('@');
                branches.add(parts[i].substring(0, at));
                starts[i] = Long.parseLong(parts[i].substring(at + 1));
            }
            return new Chain(branches, starts, leafPosition, leafId);
        }

        int size() {
            return branches.size();
        }

        String branch(int i) {
            return branches.get(i);
        }

        long start(int i) {
            return starts[i];
        }

        long end(int i) {
            return i + 1 < starts.length ? starts[i + 1] - 1 : leafPosition;
        }

        /** The branch that holds {@code position} on this path, or null beyond the leaf. */
        String branchAt(long position) {
            if (position < 1 || position > leafPosition) {
                return null;
            }
            for (int i = starts.length - 1; i >= 0; i--) {
                if (starts[i] <= position) {
                    return branches.get(i);
                }
            }
            return null;
        }
    }
}
