package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.in.AgentSeed;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ModelResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Servers that start at once and seed the same agent, each with its own service on one database. */
abstract class AgentSeedRace {
    private static final int SERVERS = 4;

    abstract TestDatabase db();

    private final List<ChatService> servers = new ArrayList<>();

    @BeforeEach
    void startServers() {
        JdbcChatStore store = db().freshStore();
        for (int i = 0; i < SERVERS; i++) {
            servers.add(ChatService.builder().store(store)
                    .model((request, listener, cancellation) -> ModelResponse.text("unused", dev.parley.chat.model.Usage.ZERO))
                    .agents(List.of(Agent.builder("assistant").build())).build());
        }
    }

    @AfterEach
    void stopServers() {
        servers.forEach(ChatService::close);
    }

    private static AgentSeed seed(String instructions) {
        return new AgentSeed("agt_support", "ops", new AgentDefinition("Support", null, instructions, null, null, null, null,
                AgentVisibility.SHARED, null));
    }

    @Test
    void should_create_one_agent_when_servers_seed_it_at_once() throws Exception {
        AtomicInteger next = new AtomicInteger();

        List<StoredAgent> seeded = JdbcStoreBehaviour.race(SERVERS, () -> servers.get(next.getAndIncrement()).seedAgent(seed("Be kind.")));

        assertThat(seeded).extracting(StoredAgent::version).containsOnly(1);
        assertThat(db().count("parley_agents")).isEqualTo(1);
        assertThat(db().count("parley_agent_versions")).isEqualTo(1);
    }

    @Test
    void should_add_one_version_when_servers_bring_the_same_change_at_once() throws Exception {
        servers.get(0).seedAgent(seed("Be kind."));
        AtomicInteger next = new AtomicInteger();

        List<StoredAgent> seeded = JdbcStoreBehaviour.race(SERVERS,
                () -> servers.get(next.getAndIncrement()).seedAgent(seed("Be kind and brief.")));

        assertThat(seeded).extracting(StoredAgent::version).containsOnly(2);
        assertThat(servers.get(0).listAgentVersions(null, "agt_support", PageRequest.firstPage()).items())
                .extracting(a -> a.definition().instructions()).containsExactly("Be kind and brief.", "Be kind.");
    }
}
