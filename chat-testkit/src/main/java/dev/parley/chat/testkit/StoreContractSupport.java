package dev.parley.chat.testkit;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.Message;
import dev.parley.chat.model.Run;
import dev.parley.chat.port.out.ChatStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the store contract suites: a fresh, empty {@link ChatStore} per test from
 * {@link #createStore()}, released by {@link #disposeStore} after it, plus helpers that store
 * fixtures.
 */
public abstract class StoreContractSupport {
    /** The store under test, new for each test. */
    protected ChatStore store;

    /** A new, empty store. Called once per test. */
    protected abstract ChatStore createStore();

    /** Releases what {@link #createStore()} made (drop a schema, close a pool...). Nothing by default. */
    protected void disposeStore(ChatStore disposed) {
    }

    @BeforeEach
    void openStore() {
        store = createStore();
    }

    @AfterEach
    void closeStore() {
        disposeStore(store);
    }

    protected ChatThread givenThread() {
        return givenThread(Fixtures.aThread());
    }

    protected ChatThread givenThread(Fixtures.ThreadBuilder thread) {
        ChatThread t = thread.build();
        store.threads().insert(t);
        return t;
    }

    protected Message givenMessage(ChatThread thread) {
        return store.messages().append(Fixtures.aMessage().inThread(thread).build());
    }

    protected Run givenRun(Fixtures.RunBuilder run) {
        Run r = run.build();
        store.runs().insert(r);
        return r;
    }

    /** A run in progress on a thread of its own, started by {@code owner} under a lease until {@code leaseExpiresAt}. */
    protected Run givenRunStartedOnNewThread(String owner, Instant leaseExpiresAt) {
        ChatThread thread = givenThread();
        Message question = givenMessage(thread);
        Run started = givenRun(Fixtures.aRun().onThread(thread).forMessage(question.id())).started(Fixtures.at(1));
        if (!store.runs().start(started, owner, leaseExpiresAt)) {
            throw new AssertionError("the store did not start " + started.id());
        }
        return started;
    }

    /**
     * Runs {@code task(0..n-1)} on {@code n} threads released at once and returns what each returned,
     * or the exception it threw, in task order.
     */
    protected static <T> List<Object> race(int n, IntFunction<T> task) {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch ready = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Object>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    try {
                        return task.apply(index);
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }
            if (!ready.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("racers did not start");
            }
            go.countDown();
            List<Object> results = new ArrayList<>();
            for (Future<Object> f : futures) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } catch (Exception e) {
            throw new AssertionError("race failed: " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }
}
