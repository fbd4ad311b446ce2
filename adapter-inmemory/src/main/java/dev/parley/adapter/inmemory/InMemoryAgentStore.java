package dev.parley.adapter.inmemory;

import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.ConflictException;
import dev.parley.chat.model.NotFoundException;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.out.AgentStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;

/** Stored agents of an {@link InMemoryChatStore}: every version by agent id, ids in order for the keyset. */
final class InMemoryAgentStore implements AgentStore {
    private static final String LIST_CURSOR = "agent";
    private static final String VERSION_CURSOR = "agent_version";

    private final InMemoryChatStore db;

    InMemoryAgentStore(InMemoryChatStore db) {
        this.db = db;
    }

    @Override
    public void create(StoredAgent agent) {
        db.locked(() -> {
            if (db.agentVersions.containsKey(agent.id())) {
                throw InMemoryChatStore.duplicate("agent " + agent.id());
            }
            dev.parley.chat.model.Require.that(agent.version() == 1, "a new agent starts at version 1");
            List<StoredAgent> versions = new ArrayList<>();
            versions.add(agent);
            db.put(db.agentVersions, agent.id(), versions);
            db.put(db.agentStatus, agent.id(), agent.status());
        });
    }

    @Override
    public Optional<StoredAgent> find(String id) {
        return db.locked(() -> Optional.ofNullable(latest(id)));
    }

    @Override
    public Optional<StoredAgent> lock(String id) {
        // a transaction holds the store-wide lock from start to end: finding is locking
        return find(id);
    }

    @Override
    public Optional<StoredAgent> find(String id, int version) {
        return db.locked(() -> {
            List<StoredAgent> versions = db.agentVersions.get(id);
            if (versions == null || version < 1 || version > versions.size()) {
                return Optional.empty();
            }
            return Optional.of(versions.get(version - 1).withStatus(db.agentStatus.get(id)));
        });
    }

    @Override
    public Page<StoredAgent> list(String viewerId, AgentStatus status, PageRequest page) {
        return db.locked(() -> {
            NavigableMap<String, List<StoredAgent>> newestFirst = db.agentVersions.descendingMap();
            if (page.cursor() != null) {
                newestFirst = newestFirst.tailMap(Cursors.decode(page.cursor(), LIST_CURSOR, 1)[0], false);
            }
            List<StoredAgent> items = new ArrayList<>();
            for (Map.Entry<String, List<StoredAgent>> e : newestFirst.entrySet()) {
                if (db.agentStatus.get(e.getKey()) != status) {
                    continue;
                }
                StoredAgent agent = latest(e.getKey());
                if (agent.isVisibleTo(viewerId)) {
                    items.add(agent);
                    if (items.size() > page.limit()) {
                        break;
                    }
                }
            }
            return Pages.of(items, page.limit(), a -> Cursors.encode(LIST_CURSOR, a.id()));
        });
    }

    @Override
    public Page<StoredAgent> versions(String id, PageRequest page) {
        return db.locked(() -> {
            List<StoredAgent> versions = db.agentVersions.get(id);
            if (versions == null) {
                return Page.<StoredAgent>last(List.of());
            }
            int below = page.cursor() == null ? versions.size() + 1
                    : (int) Cursors.parseLong(Cursors.decode(page.cursor(), VERSION_CURSOR, 1)[0]);
            AgentStatus status = db.agentStatus.get(id);
            List<StoredAgent> items = new ArrayList<>();
            for (int v = Math.min(below - 1, versions.size()); v >= 1 && items.size() <= page.limit(); v--) {
                items.add(versions.get(v - 1).withStatus(status));
            }
            return Pages.of(items, page.limit(), a -> Cursors.encode(VERSION_CURSOR, Integer.toString(a.version())));
        });
    }

    @Override
    public void addVersion(StoredAgent next) {
        db.locked(() -> {
            List<StoredAgent> versions = db.agentVersions.get(next.id());
            if (versions == null) {
                throw NotFoundException.agent(next.id());
            }
            if (next.version() != versions.size() + 1) {
                throw new ConflictException(ConflictException.Reason.AGENT_VERSION_CONFLICT,
                        "Agent " + next.id() + " is at version " + versions.size() + ", not " + (next.version() - 1));
            }
            db.add(versions, next);
        });
    }

    @Override
    public boolean setStatus(String id, AgentStatus status, Instant now) {
        return db.locked(() -> {
            if (!db.agentStatus.containsKey(id)) {
                return false;
            }
            db.put(db.agentStatus, id, status);
            return true;
        });
    }

    /** The latest version with the agent's status, or null; lock held. */
    private StoredAgent latest(String id) {
        List<StoredAgent> versions = db.agentVersions.get(id);
        return versions == null ? null : versions.get(versions.size() - 1).withStatus(db.agentStatus.get(id));
    }
}
