package dev.parley.benchmarks.jmh;

import dev.parley.chat.model.IdGenerator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * One id from the default generator (time-ordered UUIDv7 with a counter and random bits): a turn makes
 * about ten (thread, messages, run, steps, events). Run with {@code -t 1} and {@code -t 2} to see the
 * shared generator's lock under contention.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class IdBenchmark {
    private final IdGenerator ids = IdGenerator.timeOrdered();

    @Benchmark
    public String next() {
        return ids.next("msg");
    }
}
