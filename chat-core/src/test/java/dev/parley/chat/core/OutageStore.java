package dev.parley.chat.core;

import dev.parley.chat.model.StorageUnavailableException;
import dev.parley.chat.port.out.ChatStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store whose database can be stopped and started: while it is down, every call (reads, writes,
 * transactions, pings) throws StorageUnavailableException, as a store whose database went away does.
 * Counts the calls by method name.
 */
final class OutageStore {
    /** Which store a service is given: the one that goes down, or the database underneath. */
    enum Target { THROUGH_OUTAGE, DATABASE }

    private final ChatStore delegate;
    private final ChatStore store;
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, Hold> holds = new ConcurrentHashMap<>();
    private volatile boolean down;
    private volatile boolean backOnPing;

    OutageStore(ChatStore delegate) {
        this.delegate = delegate;
        this.store = proxy(ChatStore.class, delegate);
    }

    /** The store to give the service. */
    ChatStore store() {
        return store;
    }

    /** The store underneath, which answers whatever happens. */
    ChatStore database() {
        return delegate;
    }

    void stop() {
        down = true;
    }

    void start() {
        down = false;
    }

    /** The database comes back as soon as the store is pinged: a ping never tells that it was away. */
    void startOnNextPing() {
        backOnPing = true;
    }

    /** How many times a method of that name was called on the store or one of its parts. */
    int calls(String method) {
        return calls.computeIfAbsent(method, m -> new AtomicInteger()).get();
    }

    /** From now on, calls of a method of that name wait for {@link Hold#release}, interrupted or not (as a JDBC call can). */
    Hold hold(String method) {
        Hold hold = new Hold();
        holds.put(method, hold);
        return hold;
    }

    /** Calls held in the store until released. */
    static final class Hold {
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        /** True once a call entered the hold within {@code timeout}. */
        boolean awaitEntered(Duration timeout) throws InterruptedException {
            return entered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        void release() {
            released.countDown();
        }

        private void pass() {
            entered.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    released.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T proxy(Class<T> type, T target) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return invoke(method, target, args);
            }
            if (method.getName().equals("signals") || method.getName().equals("isSupported")) {
                return invoke(method, target, args);
            }
            Class<?> returned = method.getReturnType();
            if (returned.isInterface() && returned.getPackageName().equals(ChatStore.class.getPackageName())) {
                return proxy((Class<Object>) returned, invoke(method, target, args)); // a part of the store
            }
            calls.computeIfAbsent(method.getName(), m -> new AtomicInteger()).incrementAndGet();
            if (down && backOnPing && method.getName().equals("ping")) {
                backOnPing = false;
                down = false;
            }
            Hold hold = holds.get(method.getName());
            if (hold != null) {
                hold.pass();
            }
            if (down) {
                throw new StorageUnavailableException("connection refused", null);
            }
            return invoke(method, target, args);
        });
    }

    private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
