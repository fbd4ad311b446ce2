package dev.parley.chat.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.parley.adapter.inmemory.InMemoryAdapters;
import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.PageRequest;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.SortOrder;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.AgentLimits;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunSubscription;
import dev.parley.chat.port.out.Tool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A {@link ChatService} on the in-memory store and event bus with a test clock, plus the reads
 * tests keep needing. Close it after each test.
 */
final class ChatHarness implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String ALICE = "alice";
    static final String BOB = "bob";
    static final String AGENT = "helper";
    static final String SYSTEM_PROMPT = "You are helpful.";

    final TestClock clock = new TestClock(Instant.parse("2026-01-05T10:00:00Z"));
    final ChatStore store;
    final InMemoryAdapters.EventBus bus;
    final ChatModel model;
    final ChatService service;

    private ChatHarness(ChatStore store, ChatModel model, List<Agent> agents, UnaryOperator<ChatServiceBuilder> customize) {
        this.store = store;
        this.bus = InMemoryAdapters.eventBus(store.events());
        this.model = model;
        ChatServiceBuilder builder = ChatService.builder()
                .store(store).eventBus(bus).model(model).agents(agents).clock(clock);
        this.service = customize.apply(builder).build();
    }

    static ChatHarness of(ChatModel model, Tool... tools) {
        return of(model, AgentLimits.DEFAULT, tools);
    }

    static ChatHarness of(ChatModel model, AgentLimits limits, Tool... tools) {
        return new ChatHarness(InMemoryAdapters.store(), model, List.of(agent(limits, tools)), b -> b);
    }

    static ChatHarness custom(ChatStore store, ChatModel model, List<Agent> agents, UnaryOperator<ChatServiceBuilder> customize) {
        return new ChatHarness(store, model, agents, customize);
    }

    static Agent agent(AgentLimits limits, Tool... tools) {
        return Agent.builder(AGENT).name("Helper").description("Answers questions").instructions(SYSTEM_PROMPT).tools(tools)
                .limits(limits).build();
    }

    ChatThread newThread(String userId) {
        return service.createThread(new CreateThreadCommand(userId, null, null, null));
    }

    SendReceipt send(ThreadId threadId, String text) {
        return service.send(SendMessageCommand.text(ALICE, threadId, text));
    }

    SendReceipt send(ThreadId threadId, String text, BusyPolicy policy) {
        return service.send(SendMessageCommand.text(ALICE, threadId, text).withBusyPolicy(policy));
    }

    /** Waits for the run to end; fails the test when it does not within {@link #WAIT}. */
    RunOutcome awaitEnd(RunId runId) {
        try {
            RunOutcome outcome = service.await(ALICE, runId, WAIT);
            assertThat(outcome.run().isTerminal()).as("run %s ended within %s", runId, WAIT).isTrue();
            return outcome;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Every event of a run that has ended (or ends within {@link #WAIT}), in order. */
    List<RunEvent> events(RunId runId) {
        List<RunEvent> events = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        try (RunSubscription subscription = bus.subscribe(runId, 0)) {
            while (!subscription.isFinished()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    fail("run %s published no terminal event within %s; got %s", runId, WAIT, events);
                }
                Optional<RunEvent> event = subscription.next(Duration.ofNanos(remaining));
                event.ifPresent(events::add);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return events;
    }

    /** The thread's messages, oldest first. */
    List<Message> history(ThreadId threadId) {
        return store.messages().page(threadId, PageRequest.first(100), SortOrder.ASC).items();
    }

    Run storedRun(RunId runId) {
        return store.runs().find(runId).orElseThrow();
    }

    /** Polls until {@code condition} holds; fails after {@link #WAIT}. */
    static void eventually(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        long pauseMillis = 1;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            try {
                java.util.concurrent.TimeUnit.MILLISECONDS.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            pauseMillis = Math.min(pauseMillis * 2, 20);
        }
    }

    @Override
    public void close() {
        service.close();
        bus.close();
    }
}
