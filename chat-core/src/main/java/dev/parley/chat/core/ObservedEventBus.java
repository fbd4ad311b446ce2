package dev.parley.chat.core;

import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.RunStatus;
import dev.parley.chat.model.StepId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.in.RunEventSink;
import dev.parley.chat.port.in.Subscription;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunObserver;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's event bus, telling a {@link RunObserver} what the published events mean: every
 * event a run executing here publishes passes through {@link #publish} (in the run's order), so
 * start, first token, tool call ends and the run's end are seen where they happen. Durations are
 * measured on the monotonic clock. An event is published before the observer hears of it, and
 * the observer's failures are logged, never thrown.
 */
final class ObservedEventBus implements RunEventBus {
    private static final Logger log = LoggerFactory.getLogger(ObservedEventBus.class);
    /** Runs followed at once beyond which the oldest state is dropped (a run whose end was never published). */
    static final int MAX_FOLLOWED_RUNS = 100_000;

    private final RunEventBus delegate;
    private final RunObserver observer;
    private final Map<RunId, Followed> runs = new ConcurrentHashMap<>();

    /** What the observer needs to remember about a run between its events; guarded by its run's single writer. */
    private static final class Followed {
        final long startNanos = System.nanoTime();
        final String agentId;
        final Map<StepId, ToolStep> steps = new HashMap<>();
        boolean tokenSeen;

        Followed(String agentId) {
            this.agentId = agentId;
        }
    }

    private record ToolStep(String name) {}

    private ObservedEventBus(RunEventBus delegate, RunObserver observer) {
        this.delegate = delegate;
        this.observer = observer;
    }

    /** {@code bus} itself when there is nothing to observe. */
    static RunEventBus wrap(RunEventBus bus, RunObserver observer) {
        return observer == RunObserver.NONE ? bus : new ObservedEventBus(bus, observer);
    }

    @Override
    public void publish(RunEvent event) {
        delegate.publish(event);
        try {
            observe(event);
        } catch (RuntimeException e) {
            log.warn("run {}: the run observer failed on {}", event.runId(), event.type(), e);
        }
    }

    @Override
    public <T> T publishWith(RunEvent event, ChatStore store, Supplier<T> work) {
        T result = delegate.publishWith(event, store, work);
        try {
            observe(event);
        } catch (RuntimeException e) {
            log.warn("run {}: the run observer failed on {}", event.runId(), event.type(), e);
        }
        return result;
    }

    private void observe(RunEvent event) {
        RunId runId = event.runId();
        if (event instanceof RunEvent.RunStarted started) {
            if (runs.size() >= MAX_FOLLOWED_RUNS) {
                log.warn("the run observer follows {} runs whose end it never saw; forgetting them", runs.size());
                runs.clear();
            }
            runs.put(runId, new Followed(started.agentId()));
            observer.runStarted(runId, started.agentId());
            return;
        }
        Followed run = runs.get(runId);
        if (event instanceof RunEvent.Token) {
            if (run != null && !run.tokenSeen) {
                run.tokenSeen = true;
                observer.firstToken(runId, run.agentId, since(run));
            }
        } else if (event instanceof RunEvent.TraceStart start) {
            if (run != null) {
                run.steps.put(start.stepId(), new ToolStep(start.toolCall().name()));
            }
        } else if (event instanceof RunEvent.TraceEnd end) {
            ToolStep step = run == null ? null : run.steps.remove(end.stepId());
            observer.toolCallEnded(runId, run == null ? null : run.agentId, step == null ? null : step.name(), end.status(),
                    Duration.ofMillis(end.latencyMs()));
        } else if (event instanceof RunEvent.Done done) {
            ended(runId, RunStatus.COMPLETED, null, done.usage());
        } else if (event instanceof RunEvent.Error error) {
            ended(runId, RunStatus.FAILED, error.code(), Usage.ZERO);
        } else if (event instanceof RunEvent.Cancelled) {
            ended(runId, RunStatus.CANCELLED, null, Usage.ZERO);
        }
    }

    private void ended(RunId runId, RunStatus status, String errorCode, Usage usage) {
        Followed run = runs.remove(runId);
        observer.runEnded(runId, run == null ? null : run.agentId, status, errorCode,
                run == null ? Duration.ZERO : since(run), usage);
    }

    private static Duration since(Followed run) {
        return Duration.ofNanos(Math.max(0, System.nanoTime() - run.startNanos));
    }

    /** A paused run is forgotten here too: it may resume on another server, and holds nothing while it waits. */
    @Override
    public void handOff(RunId runId) {
        delegate.handOff(runId);
        runs.remove(runId);
    }

    @Override
    public long lastSeq(RunId runId) {
        return delegate.lastSeq(runId);
    }

    @Override
    public Subscription subscribe(RunId runId, long afterSeq, RunEventSink sink) {
        return delegate.subscribe(runId, afterSeq, sink);
    }
}
