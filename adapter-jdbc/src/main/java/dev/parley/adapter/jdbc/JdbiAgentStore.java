package dev.parley.adapter.jdbc;

import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.out.AgentStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.statement.Query;

/**
 * Stored agents in {@code parley_agents} (one row per agent) and {@code parley_agent_versions} (one
 * per version). A new version moves {@code latest_version} from n - 1 to n with a conditional update
 * and inserts the version under its primary key, so the database itself refuses a lost update or a
 * duplicate version.
 */
final class JdbiAgentStore implements AgentStore {
    private static final String LIST_CURSOR = "a1";
    private static final String VERSION_CURSOR = "av1";

    private final Db db;
    private final String insertAgent;
    private final String insertVersion;
    private final String findLatest;
    private final String lockLatest;
    private final String findVersion;
    /** The page queries: by viewer or not, after a cursor or not (package-private for the plan tests). */
    final String[] list = new String[4];
    /** The pages of an agent's versions: first, after a cursor (package-private for the plan tests). */
    final String[] versions = new String[2];
    private final String advance;
    private final String exists;
    private final String setStatus;

    JdbiAgentStore(Db db) {
        this.db = db;
        String agents = db.table("parley_agents");
        String agentVersions = db.table("parley_agent_versions");
        String columns = "a.id, a.owner_id, a.status, a.created_at, v.version, v.definition, v.created_at AS version_at";
        String joined = agents + " a JOIN " + agentVersions + " v ON v.agent_id = a.id";
        insertAgent = "INSERT INTO " + agents + " (id, owner_id, visibility, status, latest_version, created_at, updated_at)"
                + " VALUES (:id, :owner, :visibility, :status, 1, :created, :created)";
        insertVersion = "INSERT INTO " + agentVersions + " (agent_id, version, definition, created_at) VALUES (:id, :version, "
                + db.dialect().json("definition") + ", :at)";
        findLatest = "SELECT " + columns + " FROM " + joined + " AND v.version = a.latest_version WHERE a.id = :id";
        lockLatest = "SELECT id FROM " + agents + " WHERE id = :id FOR UPDATE";
        findVersion = "SELECT " + columns + " FROM " + joined + " WHERE a.id = :id AND v.version = :version";
        for (int variant = 0; variant < list.length; variant++) {
            boolean viewer = (variant & 1) != 0;
            String after = (variant & 2) != 0 ? " AND id < :after" : "";
            // the equality columns lead each ORDER BY too, so that H2 also reads its index in order and stops after the
            // page (ordered by id alone, it read every agent of the status and sorted them: 90 ms at 10,000 agents)
            String shared = "SELECT id FROM " + agents + " WHERE visibility = 'shared' AND status = :status" + after
                    + " ORDER BY visibility, status, id DESC LIMIT :limit";
            String own = "SELECT id FROM " + agents + " WHERE owner_id = :viewer AND status = :status" + after
                    + " ORDER BY owner_id, status, id DESC LIMIT :limit";
            String ids = viewer ? "(" + shared + ") UNION (" + own + ")" : shared;
            // PostgreSQL plans the page best as agents whose id is in the visible ones; H2 would read every agent for that,
            // and is fast when it starts from the visible ids (PostgreSQL is 1.5x slower so)
            list[variant] = db.dialect() == Dialect.POSTGRESQL
                    ? "SELECT " + columns + " FROM " + joined + " AND v.version = a.latest_version"
                            + " WHERE a.id IN (SELECT id FROM (" + ids + ") visible) ORDER BY a.id DESC LIMIT :limit"
                    : "SELECT " + columns + " FROM (" + ids + ") visible JOIN " + agents + " a ON a.id = visible.id JOIN "
                            + agentVersions + " v ON v.agent_id = a.id AND v.version = a.latest_version ORDER BY a.id DESC LIMIT :limit";
        }
        for (int variant = 0; variant < versions.length; variant++) {
            // agent_id leads the ORDER BY (as the WHERE fixes it) so that H2 also walks the key backwards and stops after the page
            versions[variant] = "SELECT " + columns + " FROM " + joined + " WHERE v.agent_id = :id"
                    + (variant == 1 ? " AND v.version < :below" : "") + " ORDER BY v.agent_id DESC, v.version DESC LIMIT :limit";
        }
        advance = "UPDATE " + agents + " SET latest_version = :version, visibility = :visibility, updated_at = :at"
                + " WHERE id = :id AND latest_version = :previous";
        exists = "SELECT latest_version FROM " + agents + " WHERE id = :id";
        setStatus = "UPDATE " + agents + " SET status = :status, updated_at = :at WHERE id = :id";
    }

    @Override
    public void create(StoredAgent agent) {
        dev.parley.chat.model.Require.that(agent.version() == 1, "a new agent starts at version 1");
        db.atomic(h -> {
            h.createUpdate(insertAgent)
                    .bind("id", agent.id())
                    .bind("owner", Text.put(agent.ownerId()))
                    .bind("visibility", agent.definition().visibility().wireName())
                    .bind("status", agent.status().wireName())
                    .bind("created", agent.createdAt())
                    .execute();
            return h.createUpdate(insertVersion)
                    .bind("id", agent.id())
                    .bind("version", 1)
                    .bind("definition", AgentJson.write(agent.definition()))
                    .bind("at", agent.updatedAt())
                    .execute();
        });
    }

    @Override
    public Optional<StoredAgent> find(String id) {
        return db.call(h -> h.createQuery(findLatest).bind("id", id).map((rs, ctx) -> agent(rs)).findOne());
    }

    @Override
    public Optional<StoredAgent> lock(String id) {
        return db.call(h -> {
            if (h.createQuery(lockLatest).bind("id", id).mapTo(String.class).findOne().isEmpty()) {
                return Optional.<StoredAgent>empty();
            }
            return h.createQuery(findLatest).bind("id", id).map((rs, ctx) -> agent(rs)).findOne();
        });
    }

    @Override
    public Optional<StoredAgent> find(String id, int version) {
        return db.call(h -> h.createQuery(findVersion).bind("id", id).bind("version", version).map((rs, ctx) -> agent(rs)).findOne());
    }

    @Override
    public Page<StoredAgent> list(String viewerId, AgentStatus status, PageRequest page) {
        String after = page.cursor() == null ? null : listCursor(page.cursor());
        List<StoredAgent> rows = db.call(h -> {
            Query q = h.createQuery(list[(viewerId == null ? 0 : 1) + (after == null ? 0 : 2)])
                    .bind("status", status.wireName())
                    .bind("limit", page.limit() + 1);
            if (viewerId != null) {
                q.bind("viewer", Text.put(viewerId));
            }
            if (after != null) {
                q.bind("after", after);
            }
            return q.map((rs, ctx) -> agent(rs)).list();
        });
        if (rows.size() <= page.limit()) {
            return Page.last(rows);
        }
        List<StoredAgent> items = rows.subList(0, page.limit());
        return new Page<>(items, true, Cursors.ofText(LIST_CURSOR, items.get(items.size() - 1).id()));
    }

    @Override
    public Page<StoredAgent> versions(String id, PageRequest page) {
        long below = page.cursor() == null ? -1 : Cursors.position(VERSION_CURSOR, page.cursor());
        List<StoredAgent> rows = db.call(h -> {
            Query q = h.createQuery(versions[below < 0 ? 0 : 1]).bind("id", id).bind("limit", page.limit() + 1);
            if (below >= 0) {
                q.bind("below", (int) Math.min(below, Integer.MAX_VALUE));
            }
            return q.map((rs, ctx) -> agent(rs)).list();
        });
        if (rows.size() <= page.limit()) {
            return Page.last(rows);
        }
        List<StoredAgent> items = rows.subList(0, page.limit());
        return new Page<>(items, true, Cursors.position(VERSION_CURSOR, items.get(items.size() - 1).version()));
    }

    @Override
    public void addVersion(StoredAgent next) {
        db.atomic(h -> {
            int moved = h.createUpdate(advance)
                    .bind("id", next.id())
                    .bind("version", next.version())
                    .bind("previous", next.version() - 1)
                    .bind("visibility", next.definition().visibility().wireName())
                    .bind("at", next.updatedAt())
                    .execute();
            if (moved == 0) {
                Optional<Integer> latest = h.createQuery(exists).bind("id", next.id()).mapTo(Integer.class).findOne();
                if (latest.isEmpty()) {
                    throw NotFoundException.agent(next.id());
                }
                throw conflict(next, latest.get());
            }
            return h.createUpdate(insertVersion)
                    .bind("id", next.id())
                    .bind("version", next.version())
                    .bind("definition", AgentJson.write(next.definition()))
                    .bind("at", next.updatedAt())
                    .execute();
        });
    }

    @Override
    public boolean setStatus(String id, AgentStatus status, Instant now) {
        return db.call(h -> h.createUpdate(setStatus).bind("id", id).bind("status", status.wireName()).bind("at", now).execute()) == 1;
    }

    private static ConflictException conflict(StoredAgent next, int latest) {
        return new ConflictException(ConflictException.Reason.AGENT_VERSION_CONFLICT,
                "Agent " + next.id() + " is at version " + latest + ", not " + (next.version() - 1));
    }

    private static String listCursor(String cursor) {
        String id = Cursors.textOf(LIST_CURSOR, cursor);
        if (!dev.parley.chat.model.Ids.isValid(StoredAgent.ID_PREFIX, id)) {
            throw InvalidRequestException.parameter("cursor", "is not a cursor of this list");
        }
        return id;
    }

    private static StoredAgent agent(ResultSet rs) throws SQLException {
        return new StoredAgent(
                rs.getString("id"),
                Text.get(rs.getString("owner_id")),
                rs.getInt("version"),
                Json.wire(AgentStatus.class, rs.getString("status")),
                AgentJson.read(rs.getString("definition")),
                Db.instant(rs, "created_at"),
                Db.instant(rs, "version_at"));
    }

}
