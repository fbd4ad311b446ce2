package dev.parley.chat.core;

import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.TraceSpan;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model calls of one run: each streams into the run's open turn, is bounded by the model
 * timeout, and is stopped by the run's cancel (the executing thread is interrupted only inside a call).
 */
final class ModelCall {
    private static final Logger log = LoggerFactory.getLogger(ModelCall.class);
    static final String MODEL_TIMEOUT = "model_timeout";

    private final Engine engine;
    private final RunState state;
    private final RunEnder ender;
    private final Cancellation cancellation;
    /** The call may be interrupted only inside this window. Guards no I/O, so a monitor is fine. */
    private final Object interruptLock = new Object();
    private Thread runner;
    private boolean interruptible;
    /** The runner was interrupted by {@link #interrupt} and has not cleared it yet. */
    private boolean delivered;

    ModelCall(Engine engine, RunState state, RunEnder ender, Cancellation cancellation) {
        this.engine = engine;
        this.state = state;
        this.ender = ender;
        this.cancellation = cancellation;
    }

    /** The run executes on the calling thread from now on. */
    void enter() {
        synchronized (interruptLock) {
            runner = Thread.currentThread();
        }
    }

    /**
     * The run's thread leaves; an interrupt meant for a call is cleared. Any other interrupt of the thread
     * (the caller's own, when the run executed on a waiting caller's thread) is left to the thread.
     */
    void leave() {
        synchronized (interruptLock) {
            interruptible = false;
            runner = null;
            clearDelivered();
        }
    }

    /** True while the executing thread is inside a model call (and may be interrupted there). */
    boolean inCall() {
        synchronized (interruptLock) {
            return interruptible && runner != null;
        }
    }

    /** Interrupts the executing thread if it is inside a model call. */
    void interrupt() {
        synchronized (interruptLock) {
            if (interruptible && runner != null) {
                delivered = true;
                runner.interrupt();
            }
        }
    }

    /**
     * One model call, its tokens streamed into the open turn, traced as a span; {@code estimate} gives
     * the call's usage from its answer when the model reports none.
     */
    ModelResponse complete(ModelRequest request, Function<ModelResponse, Usage> estimate) {
        TraceSpan span = engine.tracer().modelCall(state.traceSpan, request);
        try {
            ModelResponse response = stream(request);
            if (span != TraceSpan.NONE) {
                engine.tracer().modelAnswered(span, response, response.usage() != null ? response.usage() : estimate.apply(response));
            }
            return response;
        } catch (RuntimeException | Error e) {
            if (cancellation.isCancelled()) {
                span.cancelled();
            } else {
                span.failed(e instanceof ChatException c ? c.code() : e instanceof RunFailure f ? f.code : "internal_error",
                        e instanceof ChatException || e instanceof RunFailure ? RunMessages.sanitize(e.getMessage(), null) : null);
            }
            throw e;
        } finally {
            SafeTracer.end(span);
        }
    }

    private ModelResponse stream(ModelRequest request) {
        ModelStreamListener listener = new ModelStreamListener() {
            @Override
            public void onToken(String delta) {
                if (delta == null || delta.isEmpty()) {
                    return;
                }
                state.unlessTerminated(() -> {
                    state.turnText.append(delta);
                    state.openTurnDeltas++;
                    state.emitLocked(s -> new RunEvent.Token(state.run.id(), s, delta));
                });
            }

            @Override
            public void onThinking(String delta) {
                if (delta == null || delta.isEmpty()) {
                    return;
                }
                state.unlessTerminated(() -> {
                    state.openTurnDeltas++;
                    state.openTurnThinkingChars += delta.length();
                    state.turnThinking.append(delta);
                    state.emitLocked(s -> new RunEvent.Thinking(state.run.id(), s, delta));
                });
            }
        };
        synchronized (interruptLock) {
            cancellation.throwIfCancelled();
            interruptible = true;
        }
        Duration timeout = engine.modelTimeout();
        if (timeout.isZero()) {
            try {
                return engine.model().complete(request, listener, cancellation);
            } finally {
                closeWindow();
            }
        }
        // the call gets a cancel signal of its own: the run's cancel, or the call's timeout
        Cancellation call = new Cancellation();
        Cancellation.Registration linked = cancellation.onCancel(call::cancel);
        AtomicBoolean timedOut = new AtomicBoolean();
        AtomicBoolean returned = new AtomicBoolean();
        // one timer of the service's shared scheduler per call; the stopper is scheduled only once the call timed out
        ScheduledFuture<?> timer = engine.timers().schedule(() -> {
            if (returned.get()) {
                return;
            }
            timedOut.set(true);
            log.warn("run {}: the model did not answer within {} ms; cancelling the call", state.run().id(), timeout.toMillis());
            call.cancel();
            interrupt();
            scheduleStopper(returned, timeout);
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            return engine.model().complete(request, listener, call);
        } catch (RuntimeException e) {
            if (timedOut.get() && !cancellation.isCancelled()) {
                throw new RunFailure(MODEL_TIMEOUT, timeoutMessage(timeout));
            }
            throw e;
        } finally {
            returned.set(true);
            timer.cancel(false);
            linked.close();
            closeWindow();
        }
    }

    /** A model that ignores the cancel of its timed-out call: the run is ended regardless, its thread left to the model. */
    private void scheduleStopper(AtomicBoolean returned, Duration timeout) {
        try {
            engine.timers().schedule(() -> {
                if (!returned.get() && !state.isTerminated()) {
                    log.error("run {}: the model ignored its timeout for {} ms; ending the run without it", state.run().id(),
                            engine.cancelTimeout().toMillis());
                    cancellation.cancel();
                    ender.finish(new Ending.Failed(MODEL_TIMEOUT, timeoutMessage(timeout)));
                    state.end();
                }
            }, engine.cancelTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("run {}: no stopper for its timed-out model call, the service is closing", state.run().id());
        }
    }

    private void closeWindow() {
        synchronized (interruptLock) {
            interruptible = false;
            clearDelivered();
        }
    }

    /** Clears the interrupt this call delivered, if any. Under the lock. */
    private void clearDelivered() {
        if (delivered) {
            delivered = false;
            Thread.interrupted();
        }
    }

    private static String timeoutMessage(Duration timeout) {
        return "The model did not answer within " + timeout.toSeconds() + " s";
    }
}
