package dev.parley.chat.core;

import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunSignals;
import dev.parley.chat.port.out.MessageStore;
import dev.parley.chat.port.out.RunStore;
import dev.parley.chat.port.out.ServerLiveness;
import dev.parley.chat.port.out.ThreadStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Views of a store for interleaving tests: each delegates every call and holds one chosen call on a
 * latch (once), so a test can force another thread's work into that exact moment.
 */
final class StoreViews {
    private StoreViews() {
    }

    /** A call that a view holds: it counts {@link #entered} down, then waits until {@link #release()}. */
    static final class Gate {
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);
        private volatile boolean used;

        boolean awaitEntered() throws InterruptedException {
            return entered.await(ChatHarness.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }

        void release() {
            released.countDown();
        }

        /** Holds the calling thread the first time only. */
        void pass() {
            if (used) {
                return;
            }
            synchronized (this) {
                if (used) {
                    return;
                }
                used = true;
            }
            entered.countDown();
            // like a store call under way, an interrupt does not cut the wait short (it is kept for later)
            boolean interrupted = false;
            long deadline = System.nanoTime() + ChatHarness.WAIT.toNanos() * 3;
            try {
                while (true) {
                    try {
                        if (!released.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                            throw new IllegalStateException("the gate was never released");
                        }
                        return;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** {@code delegate} whose first {@code runs().<method>} call with matching arguments waits at {@code gate}. */
    static ChatStore holdingRunStoreCall(ChatStore delegate, String method, Predicate<Object[]> when, Gate gate) {
        RunStore runs = proxy(RunStore.class, delegate.runs(), (m, args) -> {
            if (m.getName().equals(method) && when.test(args)) {
                gate.pass();
            }
        });
        return replacing(delegate, "runs", runs);
    }

    /** {@code delegate} whose first {@code threads().<method>} call waits at {@code gate}. */
    static ChatStore holdingThreadStoreCall(ChatStore delegate, String method, Gate gate) {
        ThreadStore threads = proxy(ThreadStore.class, delegate.threads(), (m, args) -> {
            if (m.getName().equals(method)) {
                gate.pass();
            }
        });
        return replacing(delegate, "threads", threads);
    }

    /** {@code delegate} whose first {@code messages().<method>} call made off {@code spared} (e.g. a test's own thread) waits at {@code gate}. */
    static ChatStore holdingMessageStoreCall(ChatStore delegate, String method, Thread spared, Gate gate) {
        MessageStore messages = proxy(MessageStore.class, delegate.messages(), (m, args) -> {
            if (m.getName().equals(method) && Thread.currentThread() != spared) {
                gate.pass();
            }
        });
        return replacing(delegate, "messages", messages);
    }

    /** {@code delegate} whose first transaction run by the thread named {@code thread} waits at {@code gate} once it committed. */
    static ChatStore holdingAfterCommit(ChatStore delegate, String thread, Gate gate) {
        return (ChatStore) Proxy.newProxyInstance(ChatStore.class.getClassLoader(), new Class<?>[] {ChatStore.class},
                (p, m, args) -> {
                    Object result = call(delegate, m, args);
                    if (m.getName().equals("inTransaction") && Thread.currentThread().getName().equals(thread)) {
                        gate.pass();
                    }
                    return result;
                });
    }

    /**
     * {@code delegate} whose {@code runs().renewLease} answers true without renewing: a server on it
     * believes it holds its runs while their leases run out, and never learns of a cancel that way.
     */
    static ChatStore withoutLeaseRenewals(ChatStore delegate) {
        RunStore runs = RunStore.class.cast(Proxy.newProxyInstance(RunStore.class.getClassLoader(), new Class<?>[] {RunStore.class},
                (p, m, args) -> m.getName().equals("renewLease") ? Boolean.TRUE : call(delegate.runs(), m, args)));
        return replacing(delegate, "runs", runs);
    }

    /** {@code delegate} without hints: whoever shares it learns of changes only by reading. */
    static ChatStore withoutHints(ChatStore delegate) {
        return withSignals(delegate, RunSignals.none());
    }

    /** {@code delegate} whose hints are {@code signals}. */
    static ChatStore withSignals(ChatStore delegate, RunSignals signals) {
        return replacing(delegate, "signals", signals);
    }

    /** {@code delegate} whose liveness is {@code liveness}. */
    static ChatStore withLiveness(ChatStore delegate, ServerLiveness liveness) {
        return replacing(delegate, "liveness", liveness);
    }

    /** True once {@code thread} waits inside a method named {@code method} (of any class). */
    static boolean isWaitingIn(Thread thread, String method) {
        Thread.State state = thread.getState();
        return (state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING)
                && Arrays.stream(thread.getStackTrace()).anyMatch(f -> f.getMethodName().equals(method));
    }

    private interface BeforeCall {
        void before(Method method, Object[] args) throws Exception;
    }

    private static <T> T proxy(Class<T> type, T delegate, BeforeCall before) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, m, args) -> {
            before.before(m, args == null ? new Object[0] : args);
            return call(delegate, m, args);
        }));
    }

    private static ChatStore replacing(ChatStore delegate, String method, Object replacement) {
        return (ChatStore) Proxy.newProxyInstance(ChatStore.class.getClassLoader(), new Class<?>[] {ChatStore.class},
                (p, m, args) -> m.getName().equals(method) && (args == null || args.length == 0)
                        ? replacement : call(delegate, m, args));
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
