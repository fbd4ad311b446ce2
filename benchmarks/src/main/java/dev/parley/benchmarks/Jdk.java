package dev.parley.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * Runtime features newer than the release the code is compiled for (17), used when the JVM has them:
 * virtual threads (21+) and a client's source address ({@code HttpClient.Builder.localAddress}, 19+).
 */
public final class Jdk {
    private static final ThreadFactory VIRTUAL = virtualFactory();

    private Jdk() {}

    /** True when this JVM runs virtual threads. */
    public static boolean hasVirtualThreads() {
        return VIRTUAL != null;
    }

    /** One new virtual thread per task, or a cached pool of daemon platform threads on older JVMs. */
    public static ExecutorService perTaskExecutor(String name) {
        if (VIRTUAL != null) {
            try {
                Method m = Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class);
                return (ExecutorService) m.invoke(null, VIRTUAL);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts {@code task} on a new virtual thread (a daemon platform thread on older JVMs). */
    public static Thread start(String name, Runnable task) {
        Thread t;
        if (VIRTUAL != null) {
            t = VIRTUAL.newThread(task);
        } else {
            t = new Thread(task, name);
            t.setDaemon(true);
        }
        t.start();
        return t;
    }

    /** Binds a client's connections to {@code address}; false when the JVM cannot (before 19). */
    public static boolean localAddress(HttpClient.Builder builder, InetAddress address) {
        try {
            Method m = HttpClient.Builder.class.getMethod("localAddress", InetAddress.class);
            m.invoke(builder, address);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Resident set size of this process in bytes (Linux), or -1. */
    public static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    /** Heap in use after a full collection (a few System.gc() rounds until it settles). */
    public static long heapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long used = memory.getHeapMemoryUsage().getUsed();
            if (Math.abs(last - used) < 64 * 1024) {
                return used;
            }
            last = used;
        }
        return last;
    }

    private static ThreadFactory virtualFactory() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
            builder = ofVirtual.getMethod("name", String.class, long.class).invoke(builder, "bench-", 0L);
            return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
