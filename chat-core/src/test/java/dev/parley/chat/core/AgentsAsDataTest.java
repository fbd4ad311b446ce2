package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentStatus;
import dev.parley.chat.model.AgentVariable;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.port.in.AgentPatch;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.ModelRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentsAsDataTest {
    private static final Caller ALICE = Caller.user("alice");
    private static final Caller BOB = Caller.user("bob");
    private static final Caller ADMIN = Caller.admin("root");

    private final ScriptedChatModel model = ScriptedChatModel.echo();
    private final ChatHarness h = ChatHarness.custom(InMemoryAdapters.store(), model, List.of(ChatHarness.agent(null)), b -> b);

    @AfterEach
    void close() {
        h.close();
    }

    private static AgentDefinition support(AgentVisibility visibility) {
        return new AgentDefinition("Support", "Helps customers", "Help {{user_id}} in {{lang}} about {{product}}.", "gpt-x",
                new ModelSettings(0.3, 500, ReasoningEffort.LOW), List.of(),
                List.of(new AgentVariable("lang", null, false, "English"), new AgentVariable("product", null, true, null)),
                visibility, null);
    }

    private static String code(Runnable r) {
        try {
            r.run();
        } catch (ChatException e) {
            return e.code();
        }
        return "none";
    }

    @Test
    void should_run_a_stored_agent_with_rendered_instructions_its_version_and_model_settings() {
        // given
        StoredAgent agent = h.service.createAgent(ALICE, support(AgentVisibility.PRIVATE));
        ChatThread thread = h.service.createThread(new CreateThreadCommand("alice", agent.id(), null, Map.of("product", "Parley")));

        // when
        SendReceipt sent = h.service.send(SendMessageCommand.text("alice", thread.id(), "hi"));
        h.awaitEnd(sent.run().id());

        // then
        ModelRequest request = model.lastRequest();
        assertThat(request.messages().get(0).text()).isEqualTo("Help alice in English about Parley.");
        assertThat(request.settings()).isEqualTo(new ModelSettings(0.3, 500, ReasoningEffort.LOW));
        assertThat(request.model()).isEqualTo("gpt-x");
        assertThat(h.store.runs().instructions(sent.run().id()))
                .contains(new RunInstructions(1, "Help alice in English about Parley.", new ModelSettings(0.3, 500, ReasoningEffort.LOW),
                        null));
    }

    @Test
    void should_refuse_a_chat_when_a_required_variable_has_no_value() {
        StoredAgent agent = h.service.createAgent(ALICE, support(AgentVisibility.PRIVATE));

        assertThatThrownBy(() -> h.service.send(SendMessageCommand.text("alice", null, "hi").withAgent(agent.id())))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("variables.product"));
    }

    @Test
    void should_make_a_new_version_on_each_update_and_keep_the_old_ones() {
        StoredAgent v1 = h.service.createAgent(ALICE, support(AgentVisibility.PRIVATE));

        StoredAgent v2 = h.service.updateAgent(ALICE, v1.id(), AgentPatch.none().withName("Support 2"));

        assertThat(v2.version()).isEqualTo(2);
        assertThat(h.service.getAgent(ALICE, v1.id()).definition().name()).isEqualTo("Support 2");
        assertThat(h.service.getAgentVersion(ALICE, v1.id(), 1).definition().name()).isEqualTo("Support");
        assertThat(h.service.listAgentVersions(ALICE, v1.id(), PageRequest.firstPage()).items())
                .extracting(StoredAgent::version).containsExactly(2, 1);
        assertThat(code(() -> h.service.getAgentVersion(ALICE, v1.id(), 3))).isEqualTo("agent_version_not_found");
    }

    @Test
    void should_apply_the_ownership_matrix() {
        StoredAgent mine = h.service.createAgent(ALICE, support(AgentVisibility.PRIVATE));
        StoredAgent shared = h.service.createAgent(ADMIN, support(AgentVisibility.SHARED));

        assertThat(code(() -> h.service.getAgent(BOB, mine.id()))).isEqualTo("agent_not_found");
        assertThat(code(() -> h.service.updateAgent(BOB, mine.id(), AgentPatch.none().withName("x")))).isEqualTo("agent_not_found");
        assertThat(code(() -> h.service.getAgent(Caller.anonymous(), mine.id()))).isEqualTo("agent_not_found");
        assertThat(h.service.getAgent(BOB, shared.id()).id()).isEqualTo(shared.id());
        assertThat(code(() -> h.service.updateAgent(BOB, shared.id(), AgentPatch.none().withName("x")))).isEqualTo("forbidden");
        assertThat(code(() -> h.service.createAgent(ALICE, support(AgentVisibility.SHARED)))).isEqualTo("forbidden");
        assertThat(code(() -> h.service.updateAgent(ALICE, mine.id(), AgentPatch.none().withVisibility(AgentVisibility.SHARED))))
                .isEqualTo("forbidden");
        assertThat(h.service.updateAgent(ADMIN, shared.id(), AgentPatch.none().withName("y")).version()).isEqualTo(2);
        assertThat(code(() -> h.service.updateAgent(ADMIN, ChatHarness.AGENT, AgentPatch.none().withName("x"))))
                .isEqualTo("agent_read_only");
        assertThat(code(() -> h.service.archiveAgent(ALICE, ChatHarness.AGENT))).isEqualTo("agent_read_only");
        assertThat(h.service.listAgents(BOB, AgentStatus.ACTIVE, PageRequest.firstPage()).items())
                .extracting(StoredAgent::id).containsExactly(ChatHarness.AGENT, shared.id());
        assertThat(h.service.listAgents(ALICE, AgentStatus.ACTIVE, PageRequest.firstPage()).items())
                .extracting(StoredAgent::id).containsExactly(ChatHarness.AGENT, shared.id(), mine.id());
    }

    @Test
    void should_refuse_unknown_tools_naming_each() {
        AgentDefinition withTools = new AgentDefinition("T", null, "", null, null, List.of("nope"), null, null, null);

        assertThatThrownBy(() -> h.service.createAgent(ALICE, withTools))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("tools[0].name"));
    }

    @Test
    void should_refuse_new_threads_of_an_archived_agent_and_keep_its_threads_working() {
        // given
        StoredAgent agent = h.service.createAgent(ALICE, support(AgentVisibility.PRIVATE));
        ChatThread thread = h.service.createThread(new CreateThreadCommand("alice", agent.id(), null, Map.of("product", "P")));

        // when
        h.service.archiveAgent(ALICE, agent.id());

        // then
        assertThat(code(() -> h.service.createThread(new CreateThreadCommand("alice", agent.id(), null, null)))).isEqualTo("agent_archived");
        assertThat(code(() -> h.service.send(SendMessageCommand.text("alice", null, "hi").withAgent(agent.id()))))
                .isEqualTo("agent_archived");
        h.awaitEnd(h.service.send(SendMessageCommand.text("alice", thread.id(), "still there?")).run().id());
        assertThat(h.service.listAgents(ALICE, AgentStatus.ARCHIVED, PageRequest.firstPage()).items()).extracting(StoredAgent::id)
                .containsExactly(agent.id());
        assertThat(h.service.updateAgent(ALICE, agent.id(), AgentPatch.none().withStatus(AgentStatus.ACTIVE)).status())
                .isEqualTo(AgentStatus.ACTIVE);
        assertThat(h.service.createThread(new CreateThreadCommand("alice", agent.id(), null, Map.of("product", "P")))).isNotNull();
    }
}
