package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.FieldError;
import dev.parley.chat.model.InvalidRequestException;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.ToolSpec;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Tool;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Tools whose set changes while the service runs (an MCP server's): stored agents name them from the moment they exist. */
class ToolSourceTest {
    private static final Caller ALICE = Caller.user("alice");

    private final List<Tool> offered = new CopyOnWriteArrayList<>();
    private final AtomicInteger calls = new AtomicInteger();
    private final ScriptedChatModel model = ScriptedChatModel.builder()
            .callTools(new ToolCall("call_late", "late_lookup", "{}")).reply("Found it.").build();
    private final ChatHarness h = ChatHarness.custom(InMemoryAdapters.store(), model, List.of(ChatHarness.agent(null)),
            b -> b.toolSource(() -> offered));

    @AfterEach
    void close() {
        h.close();
    }

    private static AgentDefinition naming(String tool) {
        return new AgentDefinition("Finder", null, "Find things.", null, null, List.of(tool), null, null, null);
    }

    @Test
    void should_let_a_stored_agent_name_and_run_a_tool_the_source_offers_after_the_service_started() {
        // given: the tool is not offered yet
        assertThatThrownBy(() -> h.service.createAgent(ALICE, naming("late_lookup")))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.errors()).extracting(FieldError::field).containsExactly("tools[0].name"));
        assertThat(h.service.tools()).extracting(ToolSpec::name).doesNotContain("late_lookup");

        // when: the source offers it (a server announced tools/list_changed)
        offered.add(TestTool.named("late_lookup", ctx -> "found #" + calls.incrementAndGet()));
        StoredAgent agent = h.service.createAgent(ALICE, naming("late_lookup"));
        ChatThread thread = h.service.createThread(new CreateThreadCommand("alice", agent.id(), null, null));
        RunOutcome done = h.awaitEnd(h.service.send(SendMessageCommand.text("alice", thread.id(), "find it")).run().id());

        // then
        assertThat(h.service.tools()).extracting(ToolSpec::name).contains("late_lookup");
        assertThat(done.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(done.responseText()).isEqualTo("Found it.");
        assertThat(calls.get()).isEqualTo(1);
        assertThat(model.lastRequest().tools()).extracting(ToolSpec::name).containsExactly("late_lookup");
    }

    @Test
    void should_leave_out_of_a_run_a_tool_the_source_no_longer_offers() {
        // given
        Tool lookup = TestTool.named("late_lookup", ctx -> "found #" + calls.incrementAndGet());
        offered.add(lookup);
        StoredAgent agent = h.service.createAgent(ALICE, naming("late_lookup"));
        ChatThread thread = h.service.createThread(new CreateThreadCommand("alice", agent.id(), null, null));

        // when: the server dropped it
        offered.remove(lookup);
        RunOutcome done = h.awaitEnd(h.service.send(SendMessageCommand.text("alice", thread.id(), "find it")).run().id());

        // then: the model was offered no tool, and the one it called anyway was not run
        assertThat(model.lastRequest().tools()).isEmpty();
        assertThat(calls.get()).isZero();
        assertThat(done.run().status()).isIn(RunStatus.COMPLETED, RunStatus.FAILED);
    }
}
