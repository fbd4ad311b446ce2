package dev.parley.chat.core;

import dev.parley.chat.model.ChatException;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import dev.parley.chat.port.out.TraceSpan;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
    /**
     * An asynchronous call ({@link #start}) is under way, or has ended and its answer waits for a run thread: the
     * run waits without a thread.
     */
    private boolean awaiting;

    ModelCall(Engine engine, RunState state, RunEnder ender, Cancellation cancellation) {
        this.engine = engine;
        this.state = state;
        this.ender = ender;
        this.cancellation = cancellation;
    }

    /** The run executes on the calling thread from now on (taking up the answer of an asynchronous call, if any). */
    void enter() {
        synchronized (interruptLock) {
            runner = Thread.currentThread();
            awaiting = false;
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

    /**
     * True while the executing thread is inside a model call (and may be interrupted there), or the run waits
     * for an asynchronous call without a thread.
     */
    boolean inCall() {
        synchronized (interruptLock) {
            return interruptible && runner != null || awaiting;
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
            traced(span, response, estimate);
            return response;
        } catch (RuntimeException | Error e) {
            untraced(span, e);
            throw e;
        } finally {
            SafeTracer.end(span);
        }
    }

    /** True when the model is waited for without a thread ({@link AsyncChatModel}): see {@link #start}. */
    boolean asynchronous() {
        return engine.model() instanceof AsyncChatModel;
    }

    /**
     * One call of an {@linkplain #asynchronous() asynchronous} model, as {@link #complete} makes it but
     * without holding the calling thread while the model works: the future completes (on the model's
     * thread) with the answer, or with what {@link #complete} would have thrown, once the call is traced
     * and its timer cancelled. Until a run thread takes the answer up ({@link #enter}), the run counts as in
     * its model call ({@link #inCall}).
     */
    CompletableFuture<ModelResponse> start(ModelRequest request, Function<ModelResponse, Usage> estimate) {
        TraceSpan span = engine.tracer().modelCall(state.traceSpan, request);
        CompletableFuture<ModelResponse> answered = new CompletableFuture<>();
        synchronized (interruptLock) {
            if (cancellation.isCancelled()) {
                span.cancelled();
                SafeTracer.end(span);
                throw new RunCancelledException();
            }
            awaiting = true;
        }
        CallScope scope;
        try {
            scope = new CallScope();
        } catch (RuntimeException | Error e) {
            synchronized (interruptLock) {
                awaiting = false;
            }
            untraced(span, e);
            SafeTracer.end(span);
            throw e;
        }
        CompletionStage<ModelResponse> stage;
        try {
            stage = ((AsyncChatModel) engine.model()).completeAsync(request, listener(), scope.call);
            if (stage == null) {
                stage = CompletableFuture.failedFuture(new IllegalStateException("the model started no call"));
            }
        } catch (RuntimeException | Error e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((response, failure) -> {
            scope.close();
            // the run still counts as in its call until its thread takes the answer up (enter): nothing touches it before
            try {
                if (failure == null) {
                    traced(span, response, estimate);
                    answered.complete(response);
                } else {
                    Throwable thrown;
                    try {
                        thrown = scope.failure(AsyncChatModel.unwrap(failure));
                    } catch (Error error) {
                        thrown = error;
                    }
                    untraced(span, thrown);
                    answered.completeExceptionally(thrown);
                }
            } catch (RuntimeException | Error e) {
                answered.completeExceptionally(e);
            } finally {
                SafeTracer.end(span);
            }
        });
        return answered;
    }

    /**
     * The answer of a completed {@link #start}, or what it failed with, thrown as {@link #complete} throws it,
     * taken up by the calling run thread: the run no longer counts as in its call.
     */
    ModelResponse answerOf(CompletableFuture<ModelResponse> answered) {
        synchronized (interruptLock) {
            awaiting = false;
        }
        try {
            return answered.join();
        } catch (CompletionException | CancellationException e) {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof Error error) {
                throw error;
            }
            throw cause instanceof RuntimeException runtime ? runtime : AsyncChatModel.unwrap(cause);
        }
    }

    private void traced(TraceSpan span, ModelResponse response, Function<ModelResponse, Usage> estimate) {
        if (span != TraceSpan.NONE) {
            engine.tracer().modelAnswered(span, response, response.usage() != null ? response.usage() : estimate.apply(response));
        }
    }

    private void untraced(TraceSpan span, Throwable e) {
        if (cancellation.isCancelled()) {
            span.cancelled();
        } else {
            span.failed(e instanceof ChatException c ? c.code() : e instanceof RunFailure f ? f.code : "internal_error",
                    e instanceof ChatException || e instanceof RunFailure ? RunMessages.sanitize(e.getMessage(), null) : null);
        }
    }

    /** The listener of a call: its deltas go into the run's open turn, and out as events, unless the run has ended. */
    private ModelStreamListener listener() {
        return new ModelStreamListener() {
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
    }

    private ModelResponse stream(ModelRequest request) {
        ModelStreamListener listener = listener();
        synchronized (interruptLock) {
            cancellation.throwIfCancelled();
            interruptible = true;
        }
        CallScope scope;
        try {
            scope = new CallScope();
        } catch (RuntimeException e) {
            closeWindow();
            throw e;
        }
        try {
            return engine.model().complete(request, listener, scope.call);
        } catch (RuntimeException e) {
            throw scope.failure(e);
        } finally {
            scope.close();
            closeWindow();
        }
    }

    /**
     * A call's own cancel signal: the run's cancel, or the call's timeout (the model timeout; none when it is
     * zero, the call then takes the run's signal as it is), with the call's timer on the service's shared scheduler.
     */
    private final class CallScope {
        final Cancellation call;
        private final Duration timeout = engine.modelTimeout();
        private final Cancellation.Registration linked;
        private final AtomicBoolean timedOut = new AtomicBoolean();
        private final AtomicBoolean returned = new AtomicBoolean();
        private final ScheduledFuture<?> timer;

        CallScope() {
            if (timeout.isZero()) {
                call = cancellation;
                linked = null;
                timer = null;
                return;
            }
            call = new Cancellation();
            linked = cancellation.onCancel(call::cancel);
            // the stopper is scheduled only once the call timed out
            timer = engine.timers().schedule(() -> {
                if (returned.get()) {
                    return;
                }
                timedOut.set(true);
                log.warn("run {}: the model did not answer within {} ms; cancelling the call", state.run().id(), timeout.toMillis());
                call.cancel();
                interrupt();
                scheduleStopper(returned, timeout);
            }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** What the call's failure {@code e} ends the run with: {@code model_timeout} when the call timed out, else {@code e}. */
        RuntimeException failure(RuntimeException e) {
            if (timedOut.get() && !cancellation.isCancelled()) {
                return new RunFailure(MODEL_TIMEOUT, timeoutMessage(timeout));
            }
            return e;
        }

        void close() {
            returned.set(true);
            if (timer != null) {
                timer.cancel(false);
                linked.close();
            }
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
