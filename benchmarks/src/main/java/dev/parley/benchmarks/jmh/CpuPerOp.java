package dev.parley.benchmarks.jmh;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * A JMH profiler ({@code -prof dev.parley.benchmarks.jmh.CpuPerOp}) that reports the CPU time the
 * benchmark's JVM spent per operation of a throughput iteration: every thread's, the benchmark's own,
 * the run threads, the JIT and the collector, user and system time (a park or unpark that enters the
 * kernel counts). On a machine whose cores other work shares, the throughput measures the share of
 * the cores the JVM got; this measures what a turn costs, which that share moves much less.
 */
public final class CpuPerOp implements InternalProfiler {
    private long cpuBefore;

    @Override
    public String getDescription() {
        return "the JVM's CPU time per operation (all threads, user and system)";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        cpuBefore = processCpuNanos();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams,
                                                       IterationResult result) {
        long cpu = processCpuNanos() - cpuBefore;
        double seconds = iterationParams.getTime().convertTo(TimeUnit.NANOSECONDS) / 1e9;
        double ops = result.getPrimaryResult().getScore() * seconds;
        if (ops <= 0) {
            return List.of();
        }
        return List.of(new ScalarResult("cpu.per.op", cpu / 1e3 / ops, "us/op", AggregationPolicy.AVG));
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
