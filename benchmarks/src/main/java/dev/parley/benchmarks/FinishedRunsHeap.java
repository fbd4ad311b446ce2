package dev.parley.benchmarks;

import dev.parley.chat.core.ChatService;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.out.Agent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a server that finishes many runs keeps of them in its heap: {@code T} callers make turns of
 * {@code N} tokens through the core as fast as they can for {@code S} seconds (each a user of its own,
 * a new chat thread every 50 turns), then the heap in use after a full collection is read and set
 * against the heap before the turns, per turn made. With a store outside the heap (PostgreSQL; H2's
 * page cache is bounded), what grows with the turns is what the core holds of finished runs.
 *
 * <pre>java -jar benchmarks.jar finished-heap [--store=postgres|h2|memory] [--tokens=N] [--seconds=S] [--threads=T]</pre>
 */
final class FinishedRunsHeap {
    private FinishedRunsHeap() {}

    static void main(String[] args) throws Exception {
        Databases.Kind kind = Databases.Kind.POSTGRES;
        int tokens = 200;
        int seconds = 20;
        int threads = 4;
        for (String arg : args) {
            if (arg.startsWith("--store=")) {
                kind = Databases.Kind.parse(arg.substring("--store=".length()));
            } else if (arg.startsWith("--tokens=")) {
                tokens = Main.atLeastOne(arg);
            } else if (arg.startsWith("--seconds=")) {
                seconds = Main.atLeastOne(arg);
            } else if (arg.startsWith("--threads=")) {
                threads = Main.atLeastOne(arg);
            } else {
                throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        try (Databases.Database db = Databases.open(kind, threads + 2)) {
            ChatService chat = ChatService.builder().store(db.chatStore()).model(new BenchModel())
                    .agents(List.of(Agent.builder("assistant").name("Assistant").instructions("You are a benchmark.").build()))
                    .build();
            try {
                String text = "zero:" + tokens;
                // warm-up, then the baseline
                callers(chat, text, threads, 3, "warm");
                long before = Jdk.heapAfterGc();
                long turns = callers(chat, text, threads, seconds, "run");
                long after = Jdk.heapAfterGc();
                System.out.printf(Locale.ROOT, "store=%s tokens=%d threads=%d seconds=%d turns=%d (%.0f/s)%n", kind.label(), tokens, threads,
                        seconds, turns, turns / (double) seconds);
                System.out.printf(Locale.ROOT, "heap after GC: before %.1f MiB, after %.1f MiB, grown %.1f MiB, %.0f B a turn%n",
                        before / 1048576.0, after / 1048576.0, (after - before) / 1048576.0, (after - before) / (double) turns);
            } finally {
                chat.close();
            }
        }
    }

    /** Turns made by {@code threads} callers in {@code seconds}. */
    private static long callers(ChatService chat, String text, int threads, int seconds, String label) throws InterruptedException {
        AtomicLong turns = new AtomicLong();
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            String user = "heap-" + label + "-" + i;
            Thread t = new Thread(() -> {
                ThreadId thread = null;
                int made = 0;
                while (System.nanoTime() < end) {
                    if (made++ % 50 == 0) {
                        thread = chat.createThread(new CreateThreadCommand(user, null, null, null)).id();
                    }
                    try {
                        var outcome = chat.sendAndAwait(SendMessageCommand.text(user, thread, text), Duration.ofSeconds(60)).outcome();
                        if (outcome.run().status() != RunStatus.COMPLETED) {
                            throw new IllegalStateException("the run ended as " + outcome.run().status());
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    turns.incrementAndGet();
                }
            }, "caller-" + i);
            t.start();
            callers.add(t);
        }
        for (Thread t : callers) {
            t.join();
        }
        return turns.get();
    }
}
