package dev.parley.chat.port.out;

import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.Page;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** {@link AgentStore#none()}. */
enum NoAgentStore implements AgentStore {
    INSTANCE;

    @Override
    public void create(StoredAgent agent) {
        throw new UnsupportedOperationException("this store keeps no agents");
    }

    @Override
    public Optional<StoredAgent> find(String id) {
        return Optional.empty();
    }

    @Override
    public Optional<StoredAgent> lock(String id) {
        return Optional.empty();
    }

    @Override
    public Optional<StoredAgent> find(String id, int version) {
        return Optional.empty();
    }

    @Override
    public Page<StoredAgent> list(String viewerId, AgentStatus status, PageRequest page) {
        return Page.last(List.of());
    }

    @Override
    public Page<StoredAgent> versions(String id, PageRequest page) {
        return Page.last(List.of());
    }

    @Override
    public void addVersion(StoredAgent next) {
        throw new UnsupportedOperationException("this store keeps no agents");
    }

    @Override
    public boolean setStatus(String id, AgentStatus status, Instant now) {
        return false;
    }
}
