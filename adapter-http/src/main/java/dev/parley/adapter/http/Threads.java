package dev.parley.adapter.http;

import java.lang.reflect.Method;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;

/** Thread factories that use virtual threads when the running JVM has them, daemon platform threads otherwise. */
final class Threads {
    private Threads() {}

    static boolean virtualThreadsAvailable() {
        return virtualFactory("probe-") != null;
    }

    static ThreadFactory factory(String namePrefix) {
        ThreadFactory virtual = virtualFactory(namePrefix);
        if (virtual != null) {
            return virtual;
        }
        AtomicLong counter = new AtomicLong();
        return task -> {
            Thread thread = new Thread(task, namePrefix + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Short tasks that may block: a virtual thread each, else a cached pool of daemon threads (reused, not made per task). */
    static Executor executor(String namePrefix) {
        ThreadFactory virtual = virtualFactory(namePrefix);
        if (virtual != null) {
            return task -> virtual.newThread(task).start();
        }
        return Executors.newCachedThreadPool(factory(namePrefix));
    }

    private static ThreadFactory virtualFactory(String namePrefix) {
        try {
            Method ofVirtual = Thread.class.getMethod("ofVirtual");
            Object builder = ofVirtual.invoke(null);
            Class<?> builderType = Class.forName("java.lang.Thread$Builder");
            builder = builderType.getMethod("name", String.class, long.class).invoke(builder, namePrefix, 1L);
            return (ThreadFactory) builderType.getMethod("factory").invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
