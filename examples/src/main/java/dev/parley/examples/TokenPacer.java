package dev.parley.examples;

import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Plays a decided answer's tokens to a listener without a thread waiting between them: the first at
 * once, then one every {@code delay} from one shared timer thread, and the answer once all were heard.
 * A cancel stops it at once and fails the answer with {@link RunCancelledException}.
 */
final class TokenPacer {
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final List<String> tokens;
    private final ModelResponse response;
    private final long delayNanos;
    private final ModelStreamListener listener;
    private final Cancellation cancellation;
    private final CompletableFuture<ModelResponse> answer = new CompletableFuture<>();
    private final Cancellation.Registration registration;
    private volatile ScheduledFuture<?> next;
    /** Tokens heard so far; touched by one emission at a time. */
    private int heard;

    private TokenPacer(List<String> tokens, ModelResponse response, Duration delay, ModelStreamListener listener,
                       Cancellation cancellation) {
        this.tokens = tokens;
        this.response = response;
        this.delayNanos = delay.toNanos();
        this.listener = listener;
        this.cancellation = cancellation;
        this.registration = cancellation.onCancel(this::cancelled);
    }

    /** Plays {@code tokens}, then completes with {@code response}. */
    static CompletableFuture<ModelResponse> play(List<String> tokens, ModelResponse response, Duration delay,
                                                 ModelStreamListener listener, Cancellation cancellation) {
        TokenPacer pacer = new TokenPacer(tokens, response, delay, listener, cancellation);
        pacer.emit();
        return pacer.answer;
    }

    /** Hears the next token (every one when there is no delay), then schedules the one after it, or answers. */
    private void emit() {
        try {
            do {
                if (cancellation.isCancelled()) {
                    return;
                }
                if (heard < tokens.size()) {
                    listener.onToken(tokens.get(heard++));
                }
            } while (delayNanos == 0 && heard < tokens.size());
        } catch (RuntimeException e) {
            registration.close();
            answer.completeExceptionally(e);
            return;
        }
        if (heard < tokens.size()) {
            next = TIMER.schedule(this::emit, delayNanos, TimeUnit.NANOSECONDS);
            if (cancellation.isCancelled()) {
                cancelled();
            }
        } else {
            registration.close();
            if (cancellation.isCancelled()) {
                cancelled();
            } else {
                answer.complete(response);
            }
        }
    }

    private void cancelled() {
        ScheduledFuture<?> pending = next;
        if (pending != null) {
            pending.cancel(false);
        }
        answer.completeExceptionally(new RunCancelledException());
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "parley-demo-model-pacer");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }
}
