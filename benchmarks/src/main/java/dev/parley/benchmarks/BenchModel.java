package dev.parley.benchmarks;

import dev.parley.chat.model.Message;
import dev.parley.chat.model.Role;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.model.Usage;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ChatModel;
import dev.parley.chat.port.out.ModelRequest;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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
 * Reports usage, so no token estimate is computed. Thread-safe.
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
