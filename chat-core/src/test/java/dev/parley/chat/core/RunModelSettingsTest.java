package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.AgentDefinition;
import dev.parley.chat.model.AgentVisibility;
import dev.parley.chat.model.ApprovalDecision;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StoredAgent;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.port.in.ApprovalCommand;
import dev.parley.chat.port.in.Caller;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RegenerateCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.ModelRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A send's own model settings: they override the agent's one by one, reach the model, and are kept
 * with the run, so that a queued start and a resume after approval (on any server) send them too.
 */
class RunModelSettingsTest {
    private static final ModelSettings OWN = new ModelSettings(1.5, 64, ReasoningEffort.HIGH);
    private static final ToolCall REFUND = new ToolCall("call_refund", "refund", "{\"order\":\"A-1\"}");

    private final ChatStore shared = InMemoryAdapters.store();
    private final List<ChatHarness> servers = new ArrayList<>();

    @AfterEach
    void tearDown() {
        servers.forEach(ChatHarness::close);
    }

    private ChatHarness server(ScriptedChatModel model) {
        ChatHarness server = ChatHarness.custom(shared, model,
                List.of(ChatHarness.agent(AgentLimits.DEFAULT, TestTool.named("refund", ctx -> "refunded").requiringApproval())),
                b -> b);
        servers.add(server);
        return server;
    }

    private static SendMessageCommand ask(ChatThread thread, String text) {
        return SendMessageCommand.text(ALICE, thread.id(), text);
    }

    @Test
    void should_send_the_runs_own_settings_in_place_of_the_agents_one_by_one_and_keep_them_with_the_run() {
        // given a stored agent with a temperature, a token limit and an effort of its own
        ScriptedChatModel model = ScriptedChatModel.echo();
        ChatHarness h = server(model);
        StoredAgent agent = h.service.createAgent(Caller.user(ALICE), new AgentDefinition("Careful", null, "Be careful.", null,
                new ModelSettings(0.2, 500, ReasoningEffort.LOW), List.of(), List.of(), AgentVisibility.PRIVATE, null));
        ChatThread thread = h.service.createThread(new CreateThreadCommand(ALICE, agent.id(), null, Map.of()));

        // when: the send gives a temperature and an effort, not a token limit
        SendReceipt sent = h.service.send(ask(thread, "hi").withModelSettings(new ModelSettings(1.1, null, ReasoningEffort.HIGH)));
        h.awaitEnd(sent.run().id());
        SendReceipt plain = h.service.send(ask(thread, "again"));
        h.awaitEnd(plain.run().id());

        // then
        ModelSettings effective = new ModelSettings(1.1, 500, ReasoningEffort.HIGH);
        assertThat(model.requests()).extracting(ModelRequest::settings)
                .containsExactly(effective, new ModelSettings(0.2, 500, ReasoningEffort.LOW));
        assertThat(h.store.runs().instructions(sent.run().id())).hasValueSatisfying(i -> assertThat(i.settings()).isEqualTo(effective));
        assertThat(h.service.getRun(ALICE, thread.id(), sent.run().id()).instructions().settings()).isEqualTo(effective);
    }

    @Test
    void should_send_a_queued_runs_settings_when_it_starts_after_the_run_before_it() throws Exception {
        // given a run that holds the thread
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("busy").reply("second").build();
        ChatHarness h = server(model);
        ChatThread thread = h.newThread(ALICE);
        SendReceipt first = h.send(thread.id(), "first");
        assertThat(model.awaitBlocked(WAIT)).isTrue();

        // when a second send with settings of its own is queued behind it, then the first ends
        SendReceipt second = h.service.send(ask(thread, "second").withBusyPolicy(BusyPolicy.ENQUEUE).withModelSettings(OWN));
        assertThat(second.run().status()).isEqualTo(RunStatus.QUEUED);
        model.release();
        h.awaitEnd(first.run().id());
        h.awaitEnd(second.run().id());

        // then the queued run, started from the store, sent them
        assertThat(model.requests()).extracting(ModelRequest::settings).containsExactly(ModelSettings.DEFAULT, OWN);
    }

    @Test
    void should_send_the_settings_again_when_a_run_resumes_on_another_server_after_approval() throws Exception {
        // given a run paused for approval on server a
        ScriptedChatModel onA = ScriptedChatModel.builder().callTools(REFUND).build();
        ScriptedChatModel onB = ScriptedChatModel.replying("Refunded.");
        ChatHarness a = server(onA);
        ChatHarness b = server(onB);
        ChatThread thread = a.newThread(ALICE);
        RunId run = a.service.send(ask(thread, "refund A-1").withModelSettings(OWN)).run().id();
        assertThat(a.service.await(ALICE, run, WAIT).run().status()).isEqualTo(RunStatus.REQUIRES_ACTION);

        // when the call is approved on server b
        b.service.decide(new ApprovalCommand(ALICE, thread.id(), run, REFUND.id(), ApprovalDecision.APPROVE, null));
        ChatHarness.eventually("the run ended", () -> b.storedRun(run).isTerminal());

        // then both servers' model calls carried the run's settings
        assertThat(onA.requests()).extracting(ModelRequest::settings).containsExactly(OWN);
        assertThat(onB.requests()).extracting(ModelRequest::settings).containsExactly(OWN);
    }

    @Test
    void should_regenerate_an_answer_with_settings_of_its_own() {
        // given
        ScriptedChatModel model = ScriptedChatModel.replying("cold", "warm");
        ChatHarness h = server(model);
        ChatThread thread = h.newThread(ALICE);
        SendReceipt sent = h.send(thread.id(), "Say something");
        var answer = h.awaitEnd(sent.run().id()).assistantMessage();

        // when
        SendReceipt again = h.service.regenerate(RegenerateCommand.of(ALICE, thread.id(), answer.id()).withModelSettings(OWN));
        h.awaitEnd(again.run().id());

        // then
        assertThat(model.lastRequest().settings()).isEqualTo(OWN);
    }

    @Test
    void should_tell_a_retry_with_other_settings_from_a_retry_of_the_same_send() {
        // given
        ScriptedChatModel model = ScriptedChatModel.echo();
        ChatHarness h = server(model);
        ChatThread thread = h.newThread(ALICE);
        SendMessageCommand send = ask(thread, "hi").withIdempotencyKey("k-1").withModelSettings(OWN);
        SendReceipt first = h.service.send(send);
        h.awaitEnd(first.run().id());

        // when / then
        assertThat(h.service.send(send).run().id()).isEqualTo(first.run().id());
        assertThatThrownBy(() -> h.service.send(send.withModelSettings(new ModelSettings(0.1, null, null))))
                .isInstanceOfSatisfying(ChatException.class, e -> assertThat(e.code()).isEqualTo("idempotency_key_reused"));
    }
}
