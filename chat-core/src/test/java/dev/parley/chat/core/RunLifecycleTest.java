package dev.parley.chat.core;

import static dev.parley.chat.core.ChatHarness.ALICE;
import static dev.parley.chat.core.ChatHarness.AGENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.parley.adapter.inmemory.ScriptedChatModel;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.Step;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.StepType;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RunLifecycleTest {
    private ChatHarness chat;

    @AfterEach
    void tearDown() {
        if (chat != null) {
            chat.close();
        }
    }

    @Test
    void should_store_the_answer_and_publish_started_tokens_and_done_in_order() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.builder().reply("Hello there, Alice").usage(12, 4).build());
        ChatThread thread = chat.newThread(ALICE);

        // when
        SendReceipt sent = chat.send(thread.id(), "Hi!");
        RunOutcome outcome = chat.awaitEnd(sent.run().id());

        // then
        assertThat(outcome.run().status()).isEqualTo(RunStatus.COMPLETED);
        assertThat(outcome.responseText()).isEqualTo("Hello there, Alice");
        assertThat(outcome.assistantMessage().status()).isEqualTo(MessageStatus.COMPLETED);
        assertThat(outcome.assistantMessage().runId()).isEqualTo(sent.run().id());
        assertThat(outcome.run().assistantMessageId()).isEqualTo(outcome.assistantMessage().id());
        assertThat(outcome.run().startedAt()).isNotNull();
        assertThat(outcome.run().completedAt()).isNotNull();

        List<RunEvent> events = chat.events(sent.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.types(events)).containsExactly("run_started", "token", "token", "token", "done");
        RunEvent.RunStarted started = (RunEvent.RunStarted) events.get(0);
        assertThat(started.threadId()).isEqualTo(thread.id());
        assertThat(started.messageId()).isEqualTo(sent.userMessage().id());
        assertThat(started.agentId()).isEqualTo(AGENT);
        assertThat(Events.tokens(events)).isEqualTo(outcome.assistantMessage().text());
        RunEvent.Done done = (RunEvent.Done) Events.last(events);
        assertThat(done.threadId()).isEqualTo(thread.id());
        assertThat(done.messageId()).isEqualTo(outcome.assistantMessage().id());
        assertThat(done.usage()).isEqualTo(outcome.run().usage());
    }

    @Test
    void should_keep_history_as_user_then_assistant_messages() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.replying("first answer", "second answer"));
        ChatThread thread = chat.newThread(ALICE);

        // when
        chat.awaitEnd(chat.send(thread.id(), "first question").run().id());
        chat.awaitEnd(chat.send(thread.id(), "second question").run().id());

        // then
        List<Message> history = chat.history(thread.id());
        assertThat(history).extracting(Message::role)
                .containsExactly(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        assertThat(history).extracting(Message::text)
                .containsExactly("first question", "first answer", "second question", "second answer");
        assertThat(history).extracting(Message::position).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void should_store_the_user_message_before_the_model_is_called() {
        // given
        AtomicReference<List<Message>> storedDuringCall = new AtomicReference<>();
        AtomicReference<ChatHarness> harness = new AtomicReference<>();
        ScriptedChatModel model = ScriptedChatModel.builder().turn(request -> {
            ChatThread only = harness.get().service.listThreads(ALICE, null, null).items().get(0);
            storedDuringCall.set(harness.get().history(only.id()));
            return ScriptedChatModel.Script.reply("ok");
        }).build();
        chat = ChatHarness.of(model);
        harness.set(chat);

        // when
        SendReceipt sent = chat.service.send(SendMessageCommand.text(ALICE, null, "remember me"));
        chat.awaitEnd(sent.run().id());

        // then
        assertThat(storedDuringCall.get()).extracting(Message::text).containsExactly("remember me");
        assertThat(sent.userMessage().position()).isEqualTo(1);
    }

    @Test
    void should_create_a_thread_for_the_default_agent_when_the_send_names_none() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo());

        // when
        SendReceipt sent = chat.service.send(SendMessageCommand.text(ALICE, null, "Plan a trip to Lisbon"));
        chat.awaitEnd(sent.run().id());

        // then
        ChatThread thread = chat.service.getThread(ALICE, sent.thread().id());
        assertThat(thread.agentId()).isEqualTo(chat.service.defaultAgentId());
        assertThat(thread.ownerId()).isEqualTo(ALICE);
        assertThat(thread.title()).isEqualTo("Plan a trip to Lisbon");
        assertThat(sent.replayed()).isFalse();
        assertThat(sent.run().status()).isEqualTo(RunStatus.IN_PROGRESS);
    }

    @Test
    void should_store_the_run_started_under_a_lease_with_its_first_step_and_the_user_message_when_the_thread_is_idle()
            throws Exception {
        // given
        ScriptedChatModel model = ScriptedChatModel.builder().tokensThenBlock("a").build();
        chat = ChatHarness.of(model);
        ChatThread thread = chat.newThread(ALICE);

        // when
        SendReceipt sent = chat.send(thread.id(), "hello");

        // then: in progress as the send committed it, held by this server under an unexpired lease, its
        // first model turn under way
        assertThat(sent.run().status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(chat.storedRun(sent.run().id()).status()).isEqualTo(RunStatus.IN_PROGRESS);
        assertThat(chat.store.runs().expiredLeases(chat.clock.instant(), 10)).isEmpty();
        assertThat(model.awaitBlocked(ChatHarness.WAIT)).isTrue();
        assertThat(chat.store.runs().steps(sent.run().id())).extracting(Step::type, Step::status)
                .containsExactly(tuple(StepType.MESSAGE_CREATION, StepStatus.IN_PROGRESS));

        // and the one step ends with the run
        assertThat(chat.service.cancelActiveRun(ALICE, thread.id()).status()).isEqualTo(RunStatus.CANCELLED);
        assertThat(chat.store.runs().steps(sent.run().id())).extracting(Step::status).containsExactly(StepStatus.CANCELLED);
    }

    @Test
    void should_move_the_thread_updated_at_on_with_new_messages() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo());
        ChatThread thread = chat.newThread(ALICE);
        chat.clock.advance(Duration.ofMinutes(5));

        // when
        chat.awaitEnd(chat.send(thread.id(), "hello").run().id());

        // then
        assertThat(chat.service.getThread(ALICE, thread.id()).updatedAt()).isAfter(thread.updatedAt());
    }

    @Test
    void should_record_one_message_creation_step_per_model_turn() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.builder().reply("done").usage(3, 1).build());
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "go").run().id());

        // then
        assertThat(outcome.steps()).singleElement().satisfies(step -> {
            assertThat(step.type()).isEqualTo(StepType.MESSAGE_CREATION);
            assertThat(step.status()).isEqualTo(StepStatus.COMPLETED);
            assertThat(step.usage().inputTokens()).isEqualTo(3);
            assertThat(step.position()).isEqualTo(1);
        });
    }

    @Test
    void should_publish_thinking_apart_from_the_answer() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.builder().thinking("Let me think").reply("Answer").build());
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "q").run().id());

        // then
        List<RunEvent> events = chat.events(outcome.run().id());
        Events.assertWellFormed(events);
        assertThat(Events.ofType(events, RunEvent.Thinking.class)).extracting(RunEvent.Thinking::content)
                .containsExactly("Let", " me", " think");
        assertThat(Events.tokens(events)).isEqualTo("Answer").isEqualTo(outcome.responseText());
    }

    @Test
    void should_return_the_run_with_steps_and_message_from_get_run_and_list_runs_newest_first() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.replying("one", "two"));
        ChatThread thread = chat.newThread(ALICE);
        SendReceipt first = chat.send(thread.id(), "1");
        chat.awaitEnd(first.run().id());
        chat.clock.advance(Duration.ofSeconds(1));
        SendReceipt second = chat.send(thread.id(), "2");
        chat.awaitEnd(second.run().id());

        // when
        RunOutcome got = chat.service.getRun(ALICE, thread.id(), first.run().id());
        var runs = chat.service.listRuns(ALICE, thread.id(), null);

        // then
        assertThat(got.responseText()).isEqualTo("one");
        assertThat(got.steps()).hasSize(1);
        assertThat(runs.items()).extracting(r -> r.id()).containsExactly(second.run().id(), first.run().id());
    }

    @Test
    void should_send_the_streamed_remainder_as_a_token_when_a_model_streams_less_than_it_answers() {
        // given a model that streams nothing and answers in one piece
        chat = ChatHarness.of((request, listener, cancellation) ->
                dev.parley.chat.port.out.ModelResponse.text("all at once", null));
        ChatThread thread = chat.newThread(ALICE);

        // when
        RunOutcome outcome = chat.awaitEnd(chat.send(thread.id(), "q").run().id());

        // then
        List<RunEvent> events = chat.events(outcome.run().id());
        assertThat(Events.tokens(events)).isEqualTo("all at once").isEqualTo(outcome.responseText());
    }

    @Test
    void should_list_agents_and_check_readiness() {
        // given
        chat = ChatHarness.of(ScriptedChatModel.echo(), TestTool.named("clock", ctx -> "noon"));

        // when
        var agents = chat.service.agents();
        var agent = chat.service.agent(AGENT);
        chat.service.checkReady();

        // then
        assertThat(agents).extracting(a -> a.id()).containsExactly(AGENT);
        assertThat(agent.model()).isEqualTo("scripted");
        assertThat(agent.tools()).extracting(t -> t.name()).containsExactly("clock");
        assertThat(chat.service.defaultAgentId()).isEqualTo(AGENT);
    }
}
