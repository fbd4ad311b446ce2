package dev.parley.chat.testkit;

import static dev.parley.chat.testkit.Fixtures.aRun;
import static dev.parley.chat.testkit.Fixtures.eventsOf;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.StepStatus;
import dev.parley.chat.model.ToolCall;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunSubscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * What the parts of {@link RunEventBusContract} share: the bus under test over a fresh store, a
 * thread with a question, runs to publish, and readers. Several buses over one store stand for
 * servers sharing a database; {@link #shutDown} stands for a server stopping.
 */
@Timeout(120)
public abstract class RunEventBusFixtures extends StoreContractSupport {
    /** Longest a test waits for something that should happen promptly. */
    protected static final Duration PATIENCE = Duration.ofSeconds(20);

    private final List<RunEventBus> buses = new ArrayList<>();
    private long runs;
    /** Threads for readers that wait (a test's own thread publishes meanwhile). */
    protected final ExecutorService readers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "contract-reader");
        t.setDaemon(true);
        return t;
    });

    /** The bus under test, over {@link #store}. */
    protected RunEventBus bus;
    protected ChatThread thread;
    protected Message question;

    /** A new bus over {@code store} (one server's bus). */
    protected abstract RunEventBus createBus(ChatStore sharedStore);

    /** Stops a bus as a server shutdown would, persisting what it buffered. Closes an AutoCloseable bus by default. */
    protected void shutDown(RunEventBus stopped) throws Exception {
        if (stopped instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    @BeforeEach
    void openBus() {
        bus = anotherBus();
        thread = givenThread();
        question = givenMessage(thread);
    }

    @AfterEach
    void closeBuses() throws Exception {
        readers.shutdownNow();
        for (RunEventBus b : buses) {
            shutDown(b);
        }
    }

    /** Another bus over the same store: another server. */
    protected RunEventBus anotherBus() {
        RunEventBus created = createBus(store);
        buses.add(created);
        return created;
    }

    /** A stored run to publish events of (in progress: call it once per thread). */
    protected Run givenRunningRun() {
        return givenRun(aRun().onThread(thread).forMessage(question.id()).inProgress().createdAt(Fixtures.at(++runs)));
    }

    /** A typical run's events: started, thinking, tokens, a tool call, more tokens, done. */
    protected List<RunEvent> aRunsEvents(Run run) {
        var step = Fixtures.stepId();
        return eventsOf(run.id()).started(thread.id(), question.id()).thinking("hmm")
                .tokens("Let ", "me ", "see")
                .traceStart(step, new ToolCall("call_1", "calculator", "{\"expression\":\"6*7\"}"))
                .traceUpdate(step, "working")
                .traceEnd(step, StepStatus.COMPLETED, "42", null, 7)
                .tokens("The ", "answer ", "is ", "42")
                .done(thread.id(), Fixtures.messageId(), Usage.reported(10, 8), null).build();
    }

    protected void publishAll(RunEventBus target, List<RunEvent> events) {
        events.forEach(target::publish);
    }

    /** Reads until the subscription finishes; fails after {@link #PATIENCE}. */
    protected static List<RunEvent> readToEnd(RunSubscription subscription) throws InterruptedException {
        List<RunEvent> read = new ArrayList<>();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!subscription.isFinished()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("subscription did not finish; read so far: " + read);
            }
            subscription.next(Duration.ofMillis(200)).ifPresent(read::add);
        }
        return read;
    }

    protected Future<List<RunEvent>> readInBackground(RunSubscription subscription) {
        return readers.submit(() -> readToEnd(subscription));
    }
}
