package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.in.AgentPatch;
import dev.parley.chat.port.in.AgentSeed;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.out.ChatStore;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentSeedTest {
    private static final Caller ALICE = Caller.user("alice");
    private static final Caller ADMIN = Caller.admin("root");

    private final ChatStore store = InMemoryAdapters.store();
    private final ChatHarness h = ChatHarness.custom(store, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)), b -> b);

    @AfterEach
    void close() {
        h.close();
    }

    private static AgentSeed seed(String instructions) {
        return new AgentSeed("agt_support", "ops", new AgentDefinition("Support", "Answers customers", instructions, null, null,
                List.of(), List.of(), AgentVisibility.SHARED, null));
    }

    @Test
    void should_create_a_missing_seeded_agent_as_version_one_owned_by_the_seed_owner() {
        StoredAgent seeded = h.service.seedAgent(seed("Be kind."));

        assertThat(seeded.id()).isEqualTo("agt_support");
        assertThat(seeded.version()).isEqualTo(1);
        assertThat(seeded.ownerId()).isEqualTo("ops");
        assertThat(h.service.getAgent(ALICE, "agt_support").definition().instructions()).isEqualTo("Be kind.");
    }

    @Test
    void should_change_nothing_when_a_seed_is_applied_again_unchanged() {
        h.service.seedAgent(seed("Be kind."));

        StoredAgent again = h.service.seedAgent(seed("Be kind."));

        assertThat(again.version()).isEqualTo(1);
        assertThat(h.service.listAgentVersions(ADMIN, "agt_support", PageRequest.firstPage()).items()).hasSize(1);
    }

    @Test
    void should_add_the_next_version_when_a_seed_says_something_new() {
        h.service.seedAgent(seed("Be kind."));

        StoredAgent changed = h.service.seedAgent(seed("Be kind and brief."));

        assertThat(changed.version()).isEqualTo(2);
        assertThat(h.service.getAgentVersion(ALICE, "agt_support", 1).definition().instructions()).isEqualTo("Be kind.");
        assertThat(h.service.getAgent(ALICE, "agt_support").definition().instructions()).isEqualTo("Be kind and brief.");
    }

    @Test
    void should_leave_an_agent_archived_through_the_api_archived() {
        h.service.seedAgent(seed("Be kind."));
        h.service.archiveAgent(ADMIN, "agt_support");

        StoredAgent reseeded = h.service.seedAgent(seed("Be kind."));

        assertThat(reseeded.status()).isEqualTo(AgentStatus.ARCHIVED);
        assertThat(h.service.getAgent(ADMIN, "agt_support").status()).isEqualTo(AgentStatus.ARCHIVED);
    }

    @Test
    void should_keep_an_edit_made_through_the_api_until_the_seed_itself_changes() {
        h.service.seedAgent(seed("Be kind."));
        h.service.updateAgent(ADMIN, "agt_support", AgentPatch.none().withName("Support desk"));

        h.service.seedAgent(seed("Be kind."));

        assertThat(h.service.getAgent(ALICE, "agt_support").definition().name()).isEqualTo("Support");
        assertThat(h.service.getAgent(ALICE, "agt_support").version()).isEqualTo(3);
    }

    @Test
    void should_refuse_a_seed_naming_a_tool_the_server_does_not_have() {
        AgentSeed withTool = new AgentSeed("agt_tools", "ops", new AgentDefinition("Tools", null, "", null, null,
                List.of("no_such_tool"), List.of(), AgentVisibility.PRIVATE, null));

        assertThatThrownBy(() -> h.service.seedAgent(withTool))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("tools[0].name"));
    }

    @Test
    void should_refuse_a_seed_id_that_is_not_a_stored_agent_id() {
        AgentDefinition definition = new AgentDefinition("X", null, "", null, null, null, null, null, null);

        assertThatThrownBy(() -> new AgentSeed("support", "ops", definition)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("agt_");
        assertThatThrownBy(() -> new AgentSeed("agt_support-desk", "ops", definition)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void should_apply_the_builders_seeds_when_the_service_is_built() {
        ChatStore shared = InMemoryAdapters.store();
        try (ChatHarness first = ChatHarness.custom(shared, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.seedAgents(List.of(seed("Be kind."))))) {
            assertThat(first.service.getAgent(ALICE, "agt_support").version()).isEqualTo(1);
        }
        try (ChatHarness restarted = ChatHarness.custom(shared, ScriptedChatModel.echo(), List.of(ChatHarness.agent(null)),
                b -> b.seedAgents(List.of(seed("Be kind."), seed("Be brief."))))) {
            assertThat(restarted.service.getAgent(ALICE, "agt_support").definition().instructions()).isEqualTo("Be brief.");
            assertThat(restarted.service.getAgent(ALICE, "agt_support").version()).isEqualTo(2);
        }
    }
}
