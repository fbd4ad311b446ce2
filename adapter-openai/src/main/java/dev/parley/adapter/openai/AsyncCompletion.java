package dev.parley.adapter.openai;

import dev.parley.chat.model.ModelException;
import dev.parley.chat.model.RunCancelledException;
import dev.parley.chat.port.out.Cancellation;
import dev.parley.chat.port.out.ModelResponse;
import dev.parley.chat.port.out.ModelStreamListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One call of {@link OpenAiChatModel#completeAsync}: the same exchange, retries, timeouts, cancellation and
 * reading as {@link ChatCompletionsClient#complete}, with no thread waiting. The response's bytes are read
 * as the HTTP client hands them over (on its threads), events are parsed and passed to the listener as they
 * complete, retries wait on the watchdog's scheduler, and {@link #result} completes once the answer is whole
 * or the call failed. Listener calls all happen before {@link #result} completes: a cancel or a timeout that
 * comes while a read is handing deltas to the listener ends the call once that read returns.
 */
final class AsyncCompletion {
    private final ChatCompletionsClient client;
    private final HttpClient http;
    private final OpenAiSettings settings;
    private final HttpRequest request;
    private final ModelStreamListener listener;
    private final Cancellation cancellation;
    private final long started = System.nanoTime();
    private final long deadline;
    private final CompletableFuture<ModelResponse> result = new CompletableFuture<>();
    private final Object lock = new Object();
    // guarded by lock
    private boolean cancelled;
    private Exchange current;
    private ScheduledFuture<?> retry;

    AsyncCompletion(ChatCompletionsClient client, HttpClient http, OpenAiSettings settings, HttpRequest request,
                    ModelStreamListener listener, Cancellation cancellation) {
        this.client = client;
        this.http = http;
        this.settings = settings;
        this.request = request;
        this.listener = listener;
        this.cancellation = cancellation;
        this.deadline = started + settings.totalTimeout().toNanos();
    }

    /** Starts the first attempt; the stage completes with the answer or the call's failure. */
    CompletionStage<ModelResponse> start() {
        Cancellation.Registration registration = cancellation.onCancel(this::cancel);
        result.whenComplete((response, failure) -> registration.close());
        attempt(1);
        return result;
    }

    /** The run's cancel: the exchange under way is aborted (its read ends the call), or the call ends at once between attempts. */
    private void cancel() {
        Exchange exchange;
        ScheduledFuture<?> pending;
        synchronized (lock) {
            cancelled = true;
            exchange = current;
            pending = retry;
            retry = null;
        }
        if (pending != null) {
            pending.cancel(false);
        }
        if (exchange == null) {
            result.completeExceptionally(new RunCancelledException());
        } else {
            exchange.abort(Exchange.Abort.CANCELLED); // its read ends the call (unless an earlier abort is ending it)
        }
    }

    private void attempt(int number) {
        Exchange exchange = new Exchange();
        synchronized (lock) {
            if (cancelled) {
                result.completeExceptionally(new RunCancelledException());
                return;
            }
            current = exchange;
            retry = null;
        }
        long firstToken = settings.streaming() ? settings.firstTokenTimeout().toNanos() : Long.MAX_VALUE;
        long idle = settings.streaming() ? settings.idleTimeout().toNanos() : Long.MAX_VALUE;
        Watchdog watchdog = new Watchdog(ChatCompletionsClient.WATCHDOGS, exchange, deadline, firstToken, idle).start();
        Attempt attempt = new Attempt(number, exchange, watchdog);
        CompletableFuture<HttpResponse<Void>> sent;
        try {
            sent = http.sendAsync(request, attempt);
        } catch (RuntimeException e) {
            attempt.done(null, e);
            return;
        }
        exchange.attach(sent);
        sent.whenComplete((response, failure) -> {
            if (failure != null) {
                attempt.sendFailed(failure);
            }
        });
    }

    /** One HTTP exchange of the call, and the reading of its response. */
    private final class Attempt implements HttpResponse.BodyHandler<Void> {
        private final int number;
        private final Exchange exchange;
        private final Watchdog watchdog;
        private final AtomicBoolean finished = new AtomicBoolean();
        private volatile Body body;

        Attempt(int number, Exchange exchange, Watchdog watchdog) {
            this.number = number;
            this.exchange = exchange;
            this.watchdog = watchdog;
        }

        @Override
        public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo info) {
            int status = info.statusCode();
            Body reader = status < 200 || status > 299 ? new Body(this, status, info.headers(), Body.ERROR)
                    : new Body(this, status, info.headers(), client.streamed(info.headers()) ? Body.STREAM : Body.WHOLE);
            body = reader;
            return reader;
        }

        /** The request failed: before any response, or (the body's reader then decides) while its body was read. */
        void sendFailed(Throwable failure) {
            Body reader = body;
            if (reader == null) {
                done(null, failure);
            } else {
                reader.stop(failure);
            }
        }

        /** The attempt's end, once: the call's answer, its failure, or another attempt. */
        void done(ModelResponse response, Throwable failure) {
            if (!finished.compareAndSet(false, true)) {
                return;
            }
            watchdog.stop();
            synchronized (lock) {
                if (current == exchange) {
                    current = null;
                }
            }
            if (failure == null) {
                if (cancellation.isCancelled()) {
                    result.completeExceptionally(new RunCancelledException());
                    return;
                }
                ChatCompletionsClient.logDone(response, started);
                result.complete(response);
                return;
            }
            exchange.close();
            RuntimeException error = failureOf(failure);
            if (error instanceof ChatCompletionsClient.RetryableFailure retryable) {
                retryOrFail(retryable.error);
                return;
            }
            if (error instanceof ModelException m) {
                ChatCompletionsClient.logFailed(m);
            }
            result.completeExceptionally(error);
        }

        private void retryOrFail(ModelException error) {
            Duration delay = client.retryWait(number, error, deadline);
            if (delay == null) {
                result.completeExceptionally(error);
                return;
            }
            synchronized (lock) {
                if (!cancelled) {
                    retry = ChatCompletionsClient.WATCHDOGS.schedule(() -> attempt(number + 1), delay.toNanos(), TimeUnit.NANOSECONDS);
                    return;
                }
            }
            result.completeExceptionally(new RunCancelledException());
        }

        /** What the call fails with, as {@link ChatCompletionsClient#complete} throws it. */
        private RuntimeException failureOf(Throwable failure) {
            Throwable cause = failure;
            while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            Exchange.Abort why = exchange.abortReason();
            if (why != null) {
                return client.aborted(why, cause);
            }
            if (cause instanceof ChatCompletionsClient.RetryableFailure || cause instanceof ModelException
                    || cause instanceof RunCancelledException) {
                return (RuntimeException) cause;
            }
            if (body == null) {
                return client.sendFailure(cause);
            }
            if (cause instanceof IOException io) {
                return ChatCompletionsClient.readFailure(io);
            }
            if (cause instanceof RuntimeException runtime) {
                return runtime;
            }
            return new ModelException("model_error", "The model call failed", null, cause);
        }
    }

    /**
     * Reads one response's body as it arrives: an error body (bounded), a whole completion, or a stream of
     * events. One read at a time (the HTTP client's signals are serial); a stop (an abort, a failed request)
     * that comes during a read takes effect when that read returns, so no listener call follows the end.
     */
    private final class Body implements HttpResponse.BodySubscriber<Void> {
        static final int ERROR = 0;
        static final int WHOLE = 1;
        static final int STREAM = 2;
        private static final int IDLE = 0;
        private static final int READING = 1;
        private static final int STOP_ASKED = 2;
        private static final int STOPPED = 4;

        private final Attempt attempt;
        private final int status;
        private final HttpHeaders headers;
        private final int kind;
        private final CompletableFuture<Void> read = new CompletableFuture<>();
        private final AtomicInteger state = new AtomicInteger(IDLE);
        private volatile Throwable stopCause;
        private volatile Flow.Subscription subscription;
        // touched by one read at a time
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final SseReader sse;
        private final CompletionAssembler assembler = new CompletionAssembler(listener);
        private boolean sawDone;

        Body(Attempt attempt, int status, HttpHeaders headers, int kind) {
            this.attempt = attempt;
            this.status = status;
            this.headers = headers;
            this.kind = kind;
            this.sse = kind == STREAM ? new SseReader() : null;
        }

        @Override
        public CompletionStage<Void> getBody() {
            return read;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            attempt.exchange.attach(() -> stop(new IOException("exchange aborted")));
            if (state.get() == STOPPED) {
                s.cancel(); // stopped before the body began
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (!state.compareAndSet(IDLE, READING)) {
                return;
            }
            boolean enough;
            try {
                enough = take(items);
            } catch (IOException | RuntimeException e) {
                end(null, e);
                return;
            }
            if (enough) {
                end(null, client.statusFailure(status, headers, bytes.toByteArray()));
            } else if (!state.compareAndSet(READING, IDLE)) {
                Throwable cause = stopCause;
                end(null, cause != null ? cause : new IOException("exchange aborted"));
            } else {
                subscription.request(1);
            }
        }

        @Override
        public void onError(Throwable failure) {
            if (state.compareAndSet(IDLE, READING)) {
                end(null, kind == ERROR ? client.statusFailure(status, headers, bytes.toByteArray()) : failure);
            }
        }

        @Override
        public void onComplete() {
            if (!state.compareAndSet(IDLE, READING)) {
                return;
            }
            try {
                switch (kind) {
                    case ERROR -> end(null, client.statusFailure(status, headers, bytes.toByteArray()));
                    case WHOLE -> {
                        client.acceptCompletion(bytes.toByteArray(), assembler);
                        end(assembler.response(), null);
                    }
                    default -> {
                        if (!sawDone) {
                            sse.finish();
                            events();
                        }
                        if (!sawDone) {
                            ChatCompletionsClient.streamEnded(assembler);
                        }
                        end(assembler.response(), null);
                    }
                }
            } catch (IOException | RuntimeException e) {
                end(null, e);
            }
        }

        /** Ends the read from another thread (an abort, a failed request): now, or when the read under way returns. */
        void stop(Throwable cause) {
            while (true) {
                int s = state.get();
                if (s == IDLE) {
                    if (state.compareAndSet(IDLE, READING)) {
                        end(null, cause);
                        return;
                    }
                } else if (s == READING) {
                    stopCause = cause;
                    if (state.compareAndSet(READING, READING | STOP_ASKED)) {
                        return;
                    }
                } else {
                    return;
                }
            }
        }

        /** The read is over (the caller holds it): an answer once {@code [DONE]} came, whatever ended the rest. */
        private void end(ModelResponse response, Throwable failure) {
            state.set(STOPPED);
            Flow.Subscription s = subscription;
            if (s != null && (failure != null || response == null)) {
                s.cancel();
            }
            ModelResponse answer = response;
            Throwable error = failure;
            if (error != null && sawDone) {
                try {
                    answer = assembler.response();
                    error = null;
                } catch (RuntimeException e) {
                    error = e;
                }
            }
            try {
                attempt.done(answer, error);
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            } finally {
                read.complete(null);
            }
        }

        /** Takes a read's bytes; true when an error body has all this reader keeps of it. */
        private boolean take(List<ByteBuffer> items) throws IOException {
            for (ByteBuffer item : items) {
                switch (kind) {
                    case ERROR -> {
                        int n = Math.min(item.remaining(), UpstreamErrors.MAX_ERROR_BODY - bytes.size());
                        bytes.write(array(item, n), 0, n);
                        if (bytes.size() >= UpstreamErrors.MAX_ERROR_BODY) {
                            return true;
                        }
                    }
                    case WHOLE -> {
                        if (bytes.size() + (long) item.remaining() > ChatCompletionsClient.MAX_COMPLETION_BYTES) {
                            throw CompletionAssembler.badResponse("the completion is too large");
                        }
                        int n = item.remaining();
                        bytes.write(array(item, n), 0, n);
                    }
                    default -> {
                        if (!sawDone) {
                            sse.push(item);
                            events();
                        }
                    }
                }
            }
            return false;
        }

        /** The events the stream completed so far, into the answer (the listener hears its deltas). */
        private void events() {
            String data;
            while (!sawDone && (data = sse.poll()) != null) {
                attempt.watchdog.activity();
                if (client.acceptEvent(data, assembler)) {
                    sawDone = true;
                    attempt.watchdog.extend(ChatCompletionsClient.DRAIN_NANOS);
                }
            }
        }

        private byte[] array(ByteBuffer item, int n) {
            byte[] copy = new byte[n];
            item.get(copy);
            return copy;
        }
    }
}
