package dev.parley.adapter.jdbc;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ThreadId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The tree operations of {@link JdbiMessageStore}: the active leaf, versions, activating a branch
 * and deleting a subtree. A subtree is the rest of the message's branch from its position plus
 * every branch forking below it, found through {@code parley_branches} rather than message by
 * message.
 */
final class MessageTree {
    private final Db db;
    private final String leaf;
    private final String lockThread;
    private final String moveLeaf;
    private final String inThread;
    private final String latestChild;
    private final String siblingsOf;
    private final String rootsOf;
    private final String versions;
    private final String rootVersions;
    private final String place;
    private final String forksBelow;
    private final String childBranches;
    private final String countBranchTail;
    private final String countBranch;
    private final String deleteBranchTail;
    private final String deleteBranchMessages;
    private final String deleteBranch;
    private final String afterDelete;
    private final String runsOfTail;
    private final String runsOfBranches;
    private final List<String> deleteRuns;
    private final UsageFolding folding;

    /** {@code folding}: the ledger's, which a delete runs first for the runs it removes; null without a ledger. */
    MessageTree(Db db, JdbiMessageStore store, UsageFolding folding) {
        this.db = db;
        this.folding = folding;
        String messages = db.table("parley_messages");
        String branches = db.table("parley_branches");
        String threads = db.table("parley_threads");
        leaf = "SELECT active_leaf_id FROM " + threads + " WHERE id = :thread AND deleted_at IS NULL";
        lockThread = "SELECT active_leaf_id FROM " + threads + " WHERE id = :thread FOR UPDATE";
        moveLeaf = "UPDATE " + threads + " SET active_leaf_id = :leaf WHERE id = :thread";
        inThread = "SELECT COUNT(*) FROM " + messages + " WHERE id = :id AND thread_id = :thread";
        latestChild = "SELECT id FROM " + messages + " WHERE thread_id = :thread AND parent_id = :parent"
                + " ORDER BY thread_id DESC, parent_id DESC, created_at DESC, id DESC LIMIT 1";
        siblingsOf = "SELECT id, parent_id, role FROM " + messages + " WHERE thread_id = :thread AND parent_id IN (<parents>)"
                + " ORDER BY thread_id, parent_id, created_at, id";
        rootsOf = "SELECT id, parent_id, role FROM " + messages + " WHERE thread_id = :thread AND parent_id IS NULL"
                + " ORDER BY thread_id, parent_id, created_at, id";
        String select = "SELECT " + JdbiMessageStore.COLUMNS + " FROM " + messages;
        versions = select + " WHERE thread_id = :thread AND parent_id = :parent AND role = :role"
                + " ORDER BY thread_id, parent_id, created_at, id";
        rootVersions = select + " WHERE thread_id = :thread AND parent_id IS NULL AND role = :role"
                + " ORDER BY thread_id, parent_id, created_at, id";
        place = "SELECT m.thread_id, m.branch_id, m.position, m.parent_id, b.start_position FROM " + messages + " m JOIN "
                + branches + " b ON b.id = m.branch_id WHERE m.id = :id";
        forksBelow = "SELECT id FROM " + branches + " WHERE parent_id = :branch AND start_position > :position";
        childBranches = "SELECT id FROM " + branches + " WHERE parent_id IN (<branches>)";
        countBranchTail = "SELECT COUNT(*) FROM " + messages + " WHERE branch_id = :branch AND position >= :position";
        countBranch = "SELECT COUNT(*) FROM " + messages + " WHERE branch_id IN (<branches>)";
        deleteBranchTail = "DELETE FROM " + messages + " WHERE branch_id = :branch AND position >= :position";
        deleteBranchMessages = "DELETE FROM " + messages + " WHERE branch_id IN (<branches>)";
        deleteBranch = "DELETE FROM " + branches + " WHERE id IN (<branches>)";
        afterDelete = "UPDATE " + threads + " SET message_count = message_count - :removed, active_leaf_id = :leaf WHERE id = :thread";
        // the runs a removed user message started or a removed assistant message answered go with them
        String runs = db.table("parley_runs");
        String runsOf = "SELECT r.id FROM " + runs + " r JOIN " + messages + " m ON (m.id = r.user_message_id OR m.id = r.assistant_message_id)"
                + " WHERE r.thread_id = :thread AND ";
        runsOfTail = runsOf + "m.branch_id = :branch AND m.position >= :position";
        runsOfBranches = runsOf + "m.branch_id IN (<branches>)";
        deleteRuns = List.of(
                "DELETE FROM " + db.table("parley_run_event_chunks") + " WHERE run_id IN (<runs>)",
                "DELETE FROM " + db.table("parley_run_events") + " WHERE run_id IN (<runs>)",
                "DELETE FROM " + db.table("parley_steps") + " WHERE run_id IN (<runs>)",
                "DELETE FROM " + db.table("parley_idempotency_keys") + " WHERE run_id IN (<runs>)",
                "DELETE FROM " + runs + " WHERE id IN (<runs>)");
    }

    Optional<MessageId> activeLeaf(ThreadId threadId) {
        return db.call(h -> h.createQuery(leaf).bind("thread", threadId.value()).map((rs, ctx) -> rs.getString(1)).findOne())
                .filter(Objects::nonNull).map(MessageId::new);
    }

    void moveLeaf(ThreadId threadId, MessageId leafId) {
        db.atomic(h -> {
            if (h.createQuery(lockThread).bind("thread", threadId.value()).mapTo(String.class).findOne().isEmpty()
                    && !exists(h, threadId)) {
                throw NotFoundException.thread(threadId);
            }
            if (leafId != null && h.createQuery(inThread).bind("id", leafId.value()).bind("thread", threadId.value())
                    .mapTo(Long.class).one() == 0) {
                throw NotFoundException.message(leafId);
            }
            return h.createUpdate(moveLeaf).bind("leaf", leafId == null ? null : leafId.value()).bind("thread", threadId.value())
                    .execute();
        });
    }

    private boolean exists(Handle h, ThreadId threadId) {
        return h.createQuery("SELECT COUNT(*) FROM " + db.table("parley_threads") + " WHERE id = :thread")
                .bind("thread", threadId.value()).mapTo(Long.class).one() > 0;
    }

    MessageId activate(MessageId messageId) {
        return db.atomic(h -> {
            Message start = live(h, messageId);
            String thread = start.threadId().value();
            h.createQuery(lockThread).bind("thread", thread).mapTo(String.class).findOne();
            String current = messageId.value();
            // one indexed read per level below the message
            while (true) {
                Optional<String> child = h.createQuery(latestChild).bind("thread", thread).bind("parent", current)
                        .mapTo(String.class).findOne();
                if (child.isEmpty()) {
                    break;
                }
                current = child.get();
            }
            h.createUpdate(moveLeaf).bind("leaf", current).bind("thread", thread).execute();
            return new MessageId(current);
        });
    }

    Page<Message> versions(MessageId messageId, PageRequest page) {
        long after = page.cursor() == null ? 0 : Cursors.position("mv", page.cursor());
        List<Message> rows = db.call(h -> {
            Message m = live(h, messageId);
            List<Message> all = (m.parentId() == null ? h.createQuery(rootVersions)
                    : h.createQuery(versions).bind("parent", m.parentId().value()))
                    .bind("thread", m.threadId().value()).bind("role", m.role().wireName())
                    .map((rs, ctx) -> JdbiMessageStore.message(rs)).list();
            List<Message> out = new ArrayList<>();
            for (int i = (int) Math.min(after, all.size()); i < all.size() && out.size() <= page.limit(); i++) {
                out.add(all.get(i).withVersions(new Message.Versions(i + 1, all.size())));
            }
            return out;
        });
        if (rows.size() <= page.limit()) {
            return Page.last(rows);
        }
        List<Message> items = rows.subList(0, page.limit());
        return new Page<>(items, true, Cursors.position("mv", items.get(items.size() - 1).versions().index()));
    }

    int delete(MessageId messageId) {
        return db.atomic(h -> {
            Optional<Place> found = h.createQuery(place).bind("id", messageId.value())
                    .map((rs, ctx) -> new Place(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getLong(5)))
                    .findOne();
            if (found.isEmpty()) {
                return 0;
            }
            Place p = found.get();
            String activeLeaf = h.createQuery(lockThread).bind("thread", p.thread).map((rs, ctx) -> rs.getString(1)).findOne()
                    .orElse(null);
            // the branches that fork below the message, and everything that forks from them
            Set<String> doomed = new LinkedHashSet<>(h.createQuery(forksBelow).bind("branch", p.branch)
                    .bind("position", p.position).mapTo(String.class).list());
            List<String> frontier = new ArrayList<>(doomed);
            while (!frontier.isEmpty()) {
                List<String> next = inList(h.createQuery(inClause(childBranches, "branches", frontier.size())), "branches", frontier).mapTo(String.class).list();
                frontier = new ArrayList<>();
                for (String b : next) {
                    if (doomed.add(b)) {
                        frontier.add(b);
                    }
                }
            }
            boolean leafDoomed = false;
            if (activeLeaf != null) {
                Optional<Place> leafPlace = h.createQuery(place).bind("id", activeLeaf)
                        .map((rs, ctx) -> new Place(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getLong(5)))
                        .findOne();
                leafDoomed = leafPlace.isPresent() && (doomed.contains(leafPlace.get().branch)
                        || leafPlace.get().branch.equals(p.branch) && leafPlace.get().position >= p.position);
            }
            Set<String> doomedRuns = new LinkedHashSet<>(h.createQuery(runsOfTail).bind("thread", p.thread).bind("branch", p.branch)
                    .bind("position", p.position).mapTo(String.class).list());
            if (!doomed.isEmpty()) {
                List<String> list = List.copyOf(doomed);
                doomedRuns.addAll(inList(h.createQuery(inClause(runsOfBranches, "branches", list.size())), "branches", list)
                        .bind("thread", p.thread).mapTo(String.class).list());
            }
            if (!doomedRuns.isEmpty()) {
                List<String> list = List.copyOf(doomedRuns);
                if (folding != null) {
                    folding.foldRuns(h, list); // the ledger keeps what the removed runs cost
                }
                for (String statement : deleteRuns) {
                    inList(h.createUpdate(inClause(statement, "runs", list.size())), "runs", list).execute();
                }
            }
            long removed = h.createQuery(countBranchTail).bind("branch", p.branch).bind("position", p.position)
                    .mapTo(Long.class).one();
            h.createUpdate(deleteBranchTail).bind("branch", p.branch).bind("position", p.position).execute();
            if (p.position == p.branchStart) {
                doomed.add(p.branch); // nothing is left of it
            }
            if (!doomed.isEmpty()) {
                List<String> list = List.copyOf(doomed);
                removed += inList(h.createQuery(inClause(countBranch, "branches", list.size())), "branches", list).mapTo(Long.class).one();
                inList(h.createUpdate(inClause(deleteBranchMessages, "branches", list.size())), "branches", list).execute();
                inList(h.createUpdate(inClause(deleteBranch, "branches", list.size())), "branches", list).execute();
            }
            String newLeaf = leafDoomed ? p.parent : activeLeaf;
            h.createUpdate(afterDelete).bind("removed", removed).bind("leaf", newLeaf).bind("thread", p.thread).execute();
            return (int) removed;
        });
    }

    /** {@code sql} with its {@code <name>} replaced by {@code n} parameters {@code :name0, :name1, ...}. */
    private static String inClause(String sql, String name, int n) {
        StringBuilder params = new StringBuilder();
        for (int i = 0; i < n; i++) {
            params.append(i == 0 ? ":" : ", :").append(name).append(i);
        }
        return sql.replace("<" + name + ">", params);
    }

    private static <S extends SqlStatement<S>> S inList(S statement, String name, List<String> values) {
        for (int i = 0; i < values.size(); i++) {
            statement.bind(name + i, values.get(i));
        }
        return statement;
    }

    private record Place(String thread, String branch, long position, String parent, long branchStart) {
    }

    private Message live(Handle h, MessageId id) {
        return h.createQuery("SELECT " + JdbiMessageStore.COLUMNS + " FROM " + db.table("parley_messages")
                        + " m WHERE m.id = :id AND EXISTS (SELECT 1 FROM " + db.table("parley_threads")
                        + " t WHERE t.id = m.thread_id AND t.deleted_at IS NULL)")
                .bind("id", id.value()).map((rs, ctx) -> JdbiMessageStore.message(rs)).findOne()
                .orElseThrow(() -> NotFoundException.message(id));
    }

    /**
     * The messages with their {@link Message.Versions}: one read of the siblings of all their
     * parents (and one of the thread's first messages when one of them is a first message).
     */
    List<Message> withVersions(Handle h, List<Message> page) {
        if (page.isEmpty()) {
            return page;
        }
        String thread = page.get(0).threadId().value();
        Set<String> parents = new LinkedHashSet<>();
        boolean roots = false;
        for (Message m : page) {
            if (m.parentId() == null) {
                roots = true;
            } else {
                parents.add(m.parentId().value());
            }
        }
        Map<String, List<String[]>> byParent = new HashMap<>();
        List<String[]> rows = new ArrayList<>();
        if (!parents.isEmpty()) {
            rows.addAll(inList(h.createQuery(inClause(siblingsOf, "parents", parents.size())), "parents", List.copyOf(parents)).bind("thread", thread)
                    .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)}).list());
        }
        if (roots) {
            rows.addAll(h.createQuery(rootsOf).bind("thread", thread)
                    .map((rs, ctx) -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)}).list());
        }
        for (String[] row : rows) {
            byParent.computeIfAbsent(row[1] + "/" + row[2], k -> new ArrayList<>()).add(row);
        }
        List<Message> out = new ArrayList<>(page.size());
        for (Message m : page) {
            List<String[]> siblings = byParent.getOrDefault((m.parentId() == null ? null : m.parentId().value()) + "/"
                    + m.role().wireName(), List.of());
            int index = 0;
            while (index < siblings.size() && !siblings.get(index)[0].equals(m.id().value())) {
                index++;
            }
            out.add(index < siblings.size() ? m.withVersions(new Message.Versions(index + 1, siblings.size())) : m);
        }
        return out;
    }
}
