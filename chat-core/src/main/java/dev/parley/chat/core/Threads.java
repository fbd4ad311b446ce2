package dev.parley.chat.core;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executors for runs and tool calls: one virtual thread per task when the runtime has them
 * (Java 21+), platform threads otherwise. Compiled for Java 17, so virtual threads are reached
 * through method handles.
 */
final class Threads {
    private static final Logger log = LoggerFactory.getLogger(Threads.class);
    /** Platform threads for runs when there are no virtual threads. */
    static final int PLATFORM_RUN_THREADS = 256;

    private Threads() {}

    /** {@code Thread::isVirtual}, or null before Java 21. */
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** True when the calling thread is a virtual thread. */
    static boolean onVirtualThread() {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
        } catch (Throwable e) {
            return false;
        }
    }

    /**
     * After a publish that woke the deliveries of an event readers wait for (a run's first text, its end): a
     * virtual thread lets its carrier run them first. A thread started or woken by a virtual thread waits in
     * that carrier's queue, and the publisher (a run going on with its answer, a cancel answering its
     * request) would otherwise keep the carrier while the delivery waits for another carrier to take it. No
     * effect on platform threads.
     */
    static void yieldToWoken() {
        if (onVirtualThread()) {
            Thread.yield();
        }
    }

    /** True when this runtime offers virtual threads. */
    static boolean hasVirtualThreads() {
        return virtualThreadFactory("probe-").isPresent();
    }

    /** Runs: virtual threads, else a bounded pool whose extra tasks wait in a queue. */
    static ExecutorService runExecutor() {
        return virtualThreadExecutor("parley-run-").orElseGet(() -> {
            ThreadPoolExecutor pool = new ThreadPoolExecutor(PLATFORM_RUN_THREADS, PLATFORM_RUN_THREADS, 60, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), platformFactory("parley-run-"));
            pool.allowCoreThreadTimeOut(true);
            return pool;
        });
    }

    /**
     * Tool calls: virtual threads, else a cached pool. Tool calls are bounded by their timeouts and
     * never queue behind runs (a run waits for its tool, so sharing a bounded pool could deadlock).
     */
    static ExecutorService toolExecutor() {
        return virtualThreadExecutor("parley-tool-").orElseGet(() -> Executors.newCachedThreadPool(platformFactory("parley-tool-")));
    }

    /**
     * Deliveries of run events to subscribers: virtual threads, else a cached pool. A delivery lasts
     * while there is something to hand over (or while its subscriber blocks on a slow client), so an
     * idle subscription holds no thread.
     */
    static ExecutorService deliveryExecutor() {
        return virtualThreadExecutor("parley-delivery-")
                .orElseGet(() -> Executors.newCachedThreadPool(platformFactory("parley-delivery-")));
    }

    private static Optional<ExecutorService> virtualThreadExecutor(String prefix) {
        return virtualThreadFactory(prefix).flatMap(factory -> {
            try {
                MethodHandle perTask = MethodHandles.publicLookup().findStatic(Executors.class, "newThreadPerTaskExecutor",
                        MethodType.methodType(ExecutorService.class, ThreadFactory.class));
                return Optional.of((ExecutorService) perTask.invoke(factory));
            } catch (Throwable e) {
                return Optional.empty();
            }
        });
    }

    /** {@code Thread.ofVirtual().name(prefix, 0).factory()}, when available. */
    static Optional<ThreadFactory> virtualThreadFactory(String prefix) {
        try {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
            Class<?> ofVirtualClass = Class.forName("java.lang.Thread$Builder$OfVirtual");
            Object builder = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtualClass)).invoke();
            builder = lookup.findVirtual(builderClass, "name", MethodType.methodType(builderClass, String.class, long.class))
                    .invoke(builder, prefix, 0L);
            Object factory = lookup.findVirtual(builderClass, "factory", MethodType.methodType(ThreadFactory.class)).invoke(builder);
            return Optional.of((ThreadFactory) factory);
        } catch (Throwable e) {
            return Optional.empty();
        }
    }

    static ThreadFactory platformFactory(String prefix) {
        AtomicLong counter = new AtomicLong();
        return task -> {
            Thread thread = new Thread(task, prefix + counter.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        };
    }

    /**
     * Waits at most {@code timeout} for {@code executor}, shut down, to finish the task it may still run (one
     * interrupted in a store call that outlasts the interrupt, as a JDBC call can); says so when it did not.
     */
    static void awaitTermination(ExecutorService executor, Duration timeout, String what) {
        try {
            if (!executor.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                log.warn("{} was still under way {} ms after close", what, timeout.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
