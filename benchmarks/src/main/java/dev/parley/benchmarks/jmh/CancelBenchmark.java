package dev.parley.benchmarks.jmh;

import dev.parley.benchmarks.Databases;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.CreateThreadCommand;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import dev.parley.chat.port.in.Subscription;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A cancel through the core in one process, without HTTP: a run has streamed its first token and waits in
 * its model call ({@code hang:1}, set up untimed); the timed part is {@code ChatService.cancelActiveRun}
 * and the wait until a subscriber of the run has been handed {@code cancelled} (the core's part of
 * scenario 4). Sample time, so that the tail shows; a new chat thread every 50 cancels.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CancelBenchmark {
    private static final int CANCELS_PER_THREAD = 50;

    @Param({"memory"})
    public String store;

    private Databases.Database db;
    private Fixtures.Wired wired;
    private String user;
    private ThreadId thread;
    private int cancels;
    private CountDownLatch cancelled;
    private Subscription subscription;

    @Setup(Level.Trial)
    public void setUp() {
        db = Databases.open(Databases.Kind.parse(store), 10);
        wired = Fixtures.wire(db.chatStore());
        user = "cancels-" + Thread.currentThread().getId();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wired.close();
        db.close();
    }

    /** A run that streamed its first token to a subscriber and now waits in its model call. */
    @Setup(Level.Invocation)
    public void runWaitingInItsModelCall() throws InterruptedException {
        if (thread == null || cancels++ % CANCELS_PER_THREAD == 0) {
            thread = wired.chat().createThread(new CreateThreadCommand(user, null, null, null)).id();
        }
        SendReceipt sent = wired.chat().send(SendMessageCommand.text(user, thread, "hang:1"));
        CountDownLatch token = new CountDownLatch(1);
        CountDownLatch ended = new CountDownLatch(1);
        subscription = wired.chat().subscribe(user, thread, sent.run().id(), 0, DisconnectPolicy.CONTINUE, new RunEventSink() {
            @Override
            public void onEvent(RunEvent event) {
                if (event instanceof RunEvent.Token) {
                    token.countDown();
                } else if (event instanceof RunEvent.Cancelled) {
                    ended.countDown();
                }
            }

            @Override
            public void onEnd(Throwable failure) {
            }
        });
        cancelled = ended;
        if (!token.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the run streamed no token");
        }
    }

    @TearDown(Level.Invocation)
    public void closeSubscription() {
        subscription.close();
    }

    @Benchmark
    public void cancel() throws InterruptedException {
        wired.chat().cancelActiveRun(user, thread);
        if (!cancelled.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no cancelled event");
        }
    }
}
