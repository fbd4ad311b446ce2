package dev.parley.chat.core;

import dev.parley.chat.model.ChatThread;
import dev.parley.chat.model.IdGenerator;
import dev.parley.chat.model.ModelPrice;
import dev.parley.chat.model.Run;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ChatStore;
import dev.parley.chat.port.out.RunEventBus;
import dev.parley.chat.port.out.RunObserver;
import dev.parley.chat.port.out.RunTracer;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.LoggerFactory;

/**
 * What every run needs from its service: the ports, time, ids, prices, where tools run, and the
 * timers that bound a model call ({@code modelTimeout}, zero for none; a model that ignores the
 * cancel is given {@code cancelTimeout} more before its run is ended regardless), who hears of runs
 * ({@code observer}) and who traces them ({@code tracer}, guarded by {@link SafeTracer}).
 */
record Engine(ChatStore store, RunEventBus bus, ChatModel model, Clock clock, IdGenerator ids,
              Map<String, ModelPrice> prices, ExecutorService toolExecutor, ScheduledExecutorService timers,
              Duration modelTimeout, Duration cancelTimeout, RunObserver observer, RunTracer tracer) {

    Instant now() {
        return clock.instant();
    }

    /** The cost of {@code usage} on {@code model}, or null when the model has no price. */
    BigDecimal cost(String model, Usage usage) {
        ModelPrice price = model == null ? null : prices.get(model);
        return price == null ? null : price.cost(usage);
    }

    /** Tells the observer that this server stored the end of {@code ended}, with its model, usage and cost. */
    void charged(Run ended) {
        try {
            observer.runCharged(ended);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(Engine.class).warn("the run observer failed on the end of run {}", ended.id(), e);
        }
    }

    /** Tells the observer that this server ended {@code ended}, a run of a stopped server, and why ({@code cause}). */
    void reaped(Run ended, String cause) {
        try {
            observer.runReaped(ended, cause);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(Engine.class).warn("the run observer failed on the end of run {}", ended.id(), e);
        }
    }

    /** Moves the thread's {@code updatedAt} on, when it still exists. */
    void touchThread(ThreadId threadId, Instant now) {
        Optional<ChatThread> thread = store.threads().find(threadId);
        thread.ifPresent(t -> store.threads().update(t.touched(now)));
    }
}
