package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.BenchModel;
import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.ContentPart;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.MessageId;
import dev.parley.chat.model.MessageStatus;
import dev.parley.chat.model.Role;

import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.RunOutcome;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.out.Agent;
import dev.parley.chat.port.out.ChatStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** What the in-process benchmarks share: the wiring of the core and the making of long threads. */
final class Fixtures {
    static final String AGENT = "assistant";
    static final IdGenerator IDS = IdGenerator.timeOrdered();
    /** The text of every stored history message (about a short chat line). */
    static final String LINE = "How long does it take to boil an egg for a soft yolk, roughly?";

    private Fixtures() {}

    /** The core over {@code store} (with the event bus it builds), with the cost-free model; close it when done. */
    static Wired wire(ChatStore store) {
        ChatService chat = ChatService.builder().store(store).model(new BenchModel())
                .agents(List.of(Agent.builder(AGENT).name("Assistant").instructions("You are a benchmark.").build()))
                .build();
        return new Wired(chat);
    }

    record Wired(ChatService chat) implements AutoCloseable {
        @Override
        public void close() {
            chat.close();
        }
    }

    /**
     * One turn through the core as a synchronous caller makes it ({@code sendAndAwait}: the run executes on
     * the caller's thread), insisting that it completed.
     */
    static RunOutcome turn(ChatService chat, String user, ThreadId thread) throws InterruptedException {
        return completed(chat.sendAndAwait(SendMessageCommand.text(user, thread, "zero:3"), Duration.ofSeconds(60)).outcome());
    }

    /** One turn through the core as {@code send}, then {@code await}: the run executes on a run thread the caller waits for. */
    static RunOutcome sendThenAwait(ChatService chat, String user, ThreadId thread) throws InterruptedException {
        SendReceipt sent = chat.send(SendMessageCommand.text(user, thread, "zero:3"));
        return completed(chat.await(user, sent.run().id(), Duration.ofSeconds(60)));
    }

    private static RunOutcome completed(RunOutcome outcome) {
        if (outcome.run().status() != RunStatus.COMPLETED) {
            throw new IllegalStateException("the run ended as " + outcome.run().status() + ": " + outcome.run().error());
        }
        return outcome;
    }

    /** A new thread of {@code user} holding {@code length} alternating user/assistant messages. */
    static ThreadId longThread(ChatStore store, String user, int length) {
        ChatThread thread = ChatThread.create(ThreadId.next(IDS), user, AGENT, "bench", null, Instant.now());
        store.threads().insert(thread);
        for (int done = 0; done < length; ) {
            int batch = Math.min(500, length - done);
            int from = done;
            store.inTransaction(() -> {
                for (int i = from; i < from + batch; i++) {
                    store.messages().append(message(thread.id(), i % 2 == 0 ? Role.USER : Role.ASSISTANT, LINE));
                }
            });
            done += batch;
        }
        return thread.id();
    }

    static Message message(ThreadId thread, Role role, String text) {
        return new Message(MessageId.next(IDS), thread, null, 0, role, List.of(ContentPart.text(text)), MessageStatus.COMPLETED,
                List.of(), null, null, Instant.now());
    }
}
