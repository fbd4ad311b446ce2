package dev.parley.benchmarks;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.AsyncChatModel;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A model that costs nothing and does what the last user message tells it, so one server serves
 * every scenario:
 * <ul>
 *   <li>{@code zero:N} (also any other text): N tokens at once, no delay (default 3);</li>
 *   <li>{@code paced:MS:N}: N tokens, one every MS milliseconds on a fixed schedule; each token is
 *       the wall-clock time in epoch microseconds taken right before the token callback, then a space;</li>
 *   <li>{@code hang:N}: N tokens, then waits until the run is cancelled.</li>
 * </ul>
 * Reports usage, so no token estimate is computed. Thread-safe. {@link #asynchronous()} is the same model
 * as an {@link AsyncChatModel}: it holds no thread while a call waits (its paced tokens come from one shared
 * timer thread, a hanging call is a future the cancel fails).
 */
public final class BenchModel implements ChatModel {
    static final String TOKEN = "tok ";
    private static final Usage USAGE = Usage.reported(10, 3);

    /** What a message asks the model to do. */
    record Directive(Kind kind, long intervalMillis, int tokens) {
        enum Kind { ZERO, PACED, HANG }

        static Directive parse(String text) {
            try {
                String[] parts = text.trim().split(":");
                switch (parts[0]) {
                    case "paced":
                        return new Directive(Kind.PACED, Long.parseLong(parts[1]), Integer.parseInt(parts[2]));
                    case "hang":
                        return new Directive(Kind.HANG, 0, parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
                    case "zero":
                        return new Directive(Kind.ZERO, 0, parts.length > 1 ? Integer.parseInt(parts[1]) : 3);
                    default:
                        return new Directive(Kind.ZERO, 0, 3);
                }
            } catch (RuntimeException e) {
                return new Directive(Kind.ZERO, 0, 3);
            }
        }
    }

    @Override
    public String defaultModel() {
        return "bench";
    }

    @Override
    public ModelResponse complete(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
        Directive directive = Directive.parse(lastUserText(request.messages()));
        StringBuilder text = new StringBuilder();
        switch (directive.kind()) {
            case ZERO -> {
                for (int i = 0; i < directive.tokens(); i++) {
                    text.append(TOKEN);
                    listener.onToken(TOKEN);
                }
            }
            case PACED -> {
                long start = System.nanoTime();
                long interval = TimeUnit.MILLISECONDS.toNanos(directive.intervalMillis());
                for (int i = 0; i < directive.tokens(); i++) {
                    long due = start + (i + 1) * interval;
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                        if (Thread.interrupted() || cancellation.isCancelled()) {
                            throw new RunCancelledException();
                        }
                    }
                    cancellation.throwIfCancelled();
                    String token = epochMicros() + " ";
                    text.append(token);
                    listener.onToken(token);
                }
            }
            case HANG -> {
                for (int i = 0; i < directive.tokens(); i++) {
                    text.append(TOKEN);
                    listener.onToken(TOKEN);
                }
                CountDownLatch cancelled = new CountDownLatch(1);
                Cancellation.Registration registration = cancellation.onCancel(cancelled::countDown);
                try {
                    cancelled.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    registration.close();
                }
                throw new RunCancelledException();
            }
            default -> throw new IllegalStateException();
        }
        return ModelResponse.text(text.toString(), USAGE);
    }

    /** This model as an {@link AsyncChatModel}: the same directives, answered without a thread per call. */
    public static AsyncChatModel asynchronous() {
        return new Async();
    }

    /** See {@link #asynchronous()}. */
    private static final class Async implements AsyncChatModel {
        /** Emits every call's paced tokens; daemon, so that it never holds a JVM up. */
        private static final ScheduledThreadPoolExecutor PACER = pacer();

        private static ScheduledThreadPoolExecutor pacer() {
            ScheduledThreadPoolExecutor pacer = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "bench-model-pacer");
                t.setDaemon(true);
                return t;
            });
            pacer.setRemoveOnCancelPolicy(true);
            return pacer;
        }

        @Override
        public String defaultModel() {
            return "bench";
        }

        @Override
        public CompletionStage<ModelResponse> completeAsync(ModelRequest request, ModelStreamListener listener, Cancellation cancellation) {
            Directive directive = Directive.parse(lastUserText(request.messages()));
            CompletableFuture<ModelResponse> answer = new CompletableFuture<>();
            switch (directive.kind()) {
                case ZERO -> {
                    StringBuilder text = new StringBuilder();
                    for (int i = 0; i < directive.tokens(); i++) {
                        text.append(TOKEN);
                        listener.onToken(TOKEN);
                    }
                    answer.complete(ModelResponse.text(text.toString(), USAGE));
                }
                case PACED -> new Paced(directive, listener, cancellation, answer).next();
                case HANG -> {
                    for (int i = 0; i < directive.tokens(); i++) {
                        listener.onToken(TOKEN);
                    }
                    cancellation.onCancel(() -> answer.completeExceptionally(new RunCancelledException()));
                }
                default -> throw new IllegalStateException();
            }
            return answer;
        }

        /** One paced call: each token is a task of the pacer, at its due time on the call's fixed schedule. */
        private static final class Paced {
            private final Directive directive;
            private final ModelStreamListener listener;
            private final Cancellation cancellation;
            private final CompletableFuture<ModelResponse> answer;
            private final long start = System.nanoTime();
            private final long interval;
            private final StringBuilder text = new StringBuilder();
            private final Cancellation.Registration registration;
            private volatile ScheduledFuture<?> pending;
            private int emitted;

            Paced(Directive directive, ModelStreamListener listener, Cancellation cancellation, CompletableFuture<ModelResponse> answer) {
                this.directive = directive;
                this.listener = listener;
                this.cancellation = cancellation;
                this.answer = answer;
                this.interval = TimeUnit.MILLISECONDS.toNanos(directive.intervalMillis());
                this.registration = cancellation.onCancel(this::cancelled);
            }

            /** Schedules the next token, or answers once all were emitted. */
            void next() {
                if (emitted == directive.tokens()) {
                    registration.close();
                    answer.complete(ModelResponse.text(text.toString(), USAGE));
                    return;
                }
                long due = start + (emitted + 1) * interval;
                pending = PACER.schedule(this::emit, Math.max(0, due - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (cancellation.isCancelled()) {
                    cancelled();
                }
            }

            private void emit() {
                if (cancellation.isCancelled()) {
                    return;
                }
                String token = epochMicros() + " ";
                text.append(token);
                emitted++;
                try {
                    listener.onToken(token);
                } catch (RuntimeException e) {
                    answer.completeExceptionally(e);
                    return;
                }
                next();
            }

            private void cancelled() {
                ScheduledFuture<?> task = pending;
                if (task != null) {
                    task.cancel(false);
                }
                answer.completeExceptionally(new RunCancelledException());
            }
        }
    }

    /** Wall-clock microseconds since the epoch (the clock both processes of a load test share). */
    public static long epochMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private static String lastUserText(List<Message> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                return messages.get(i).text();
            }
        }
        return "";
    }
}
