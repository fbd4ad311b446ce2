package dev.parley.adapter.http;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.RunStream;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * The chat flow every transport shares: starting a chat (send with its busy policy and
 * idempotency, then follow the run with its disconnect policy and the resume rules) and the one
 * pump that moves a run's events into a {@link Sink} with heartbeats, stream metrics and the
 * terminal event. A transport only says how a frame is written.
 */
public final class ChatFlow {
    /** Most events written between two flushes. */
    private static final int BATCH = 64;

    private final ChatUseCases chat;
    private final ParleyMetrics metrics;
    private final Duration heartbeat;
    private final StreamLimits streams;

    ChatFlow(ChatUseCases chat, ParleyMetrics metrics, Duration heartbeat, StreamLimits streams) {
        this.chat = chat;
        this.metrics = metrics;
        this.heartbeat = heartbeat;
        this.streams = streams;
    }

    /**
     * Takes one of the user's stream slots, before anything is sent or subscribed: every transport
     * streaming a run holds one until its stream ends (close it then), so one limit covers them all.
     *
     * @throws dev.parley.chat.model.LimitExceededException {@code too_many_streams} when the user holds the most allowed
     */
    StreamLimits.Slot streamSlot(String userId) {
        return streams.acquire(userId);
    }

    /** Where a pumped run's events go; an {@link IOException} from any method means the client is gone. */
    public interface Sink {
        /** Whether a WebSocket carries the stream (the metrics' transport). */
        boolean webSocket();

        /** Called once before the first event or heartbeat. */
        default void open() throws IOException {}

        /** Writes (or queues until {@link #flush}) one event. */
        void event(RunEvent event) throws IOException;

        /** Writes (or queues until {@link #flush}) one heartbeat. */
        void heartbeat() throws IOException;

        /** Hands what was written to the client. */
        default void flush() throws IOException {}

        /** False once the client is known to be gone. */
        default boolean isOpen() {
            return true;
        }
    }

    /**
     * The thread a chat goes to: {@code routeThread} (a route that names it), else the request's
     * {@code thread_id}, else null (a new thread).
     */
    static ThreadId target(ThreadId routeThread, Requests.Chat request) {
        return routeThread != null ? routeThread : request.threadId() == null ? null : Ids.thread(request.threadId());
    }

    /** Sends the message of {@code request} to {@code threadId} with the request's busy policy, {@code defaultBusy} when it names none. */
    SendReceipt send(String userId, ThreadId threadId, Requests.Chat request, BusyPolicy defaultBusy, String idempotencyKey) {
        BusyPolicy ifBusy = request.ifBusy() == null ? defaultBusy : request.ifBusy();
        return chat.send(new SendMessageCommand(userId, threadId, request.agentId(), request.content(), ifBusy,
                idempotencyKey, request.metadata(), request.variables()).withModelSettings(request.modelSettings()));
    }

    /**
     * Follows the run {@code receipt} started, with the request's disconnect policy ({@code continue}
     * when it names none). A new run is followed from its first event; a retry that joined the original
     * run (same idempotency key) resumes after {@code lastSeenSeq}, as {@code /events} does. Empty when
     * nothing is left to send. A failure names the run (see {@link #afterSend}).
     */
    Optional<RunStream> follow(String userId, SendReceipt receipt, Requests.Chat request, long lastSeenSeq,
                               String requestId) throws InterruptedException {
        DisconnectPolicy onDisconnect = request.onDisconnect() == null ? DisconnectPolicy.CONTINUE : request.onDisconnect();
        long after = receipt.replayed() ? lastSeenSeq : 0;
        try {
            return ReadAhead.open(chat.subscribe(userId, receipt.thread().id(), receipt.run().id(), after, onDisconnect));
        } catch (RuntimeException e) {
            throw afterSend(e, receipt, requestId);
        }
    }

    /**
     * The problem for a failure after the message and its run were stored (e.g. the store went away
     * in between): it names the run, so the client knows the message is kept and can follow the run.
     */
    static ApiProblem afterSend(RuntimeException e, SendReceipt receipt, String requestId) {
        ApiProblem problem = Errors.toProblem(e, requestId);
        if (!problem.extras.containsKey("run_id")) {
            problem.with("run_id", receipt.run().id().value()).with("thread_id", receipt.thread().id().value());
        }
        return problem;
    }

    /**
     * Moves {@code stream} into {@code sink} until its terminal event, the end of the stream or the
     * client going away: the events already waiting are written together and flushed once, and a
     * heartbeat goes out after each idle interval. Always closes the stream, which applies its
     * disconnect policy when the run is not over.
     */
    void pump(RunStream stream, Sink sink) throws InterruptedException {
        if (metrics != null) {
            metrics.streamOpened(sink.webSocket());
        }
        try (stream) {
            sink.open();
            while (sink.isOpen()) {
                Optional<RunEvent> next = stream.next(heartbeat);
                if (next.isPresent()) {
                    if (writeReady(stream, sink, next.get())) {
                        return;
                    }
                } else if (stream.isFinished()) {
                    return;
                } else {
                    sink.heartbeat();
                    sink.flush();
                }
            }
        } catch (IOException clientGone) {
            // the client went away; closing the stream above decides whether the run goes on
        } finally {
            if (metrics != null) {
                metrics.streamClosed(sink.webSocket());
            }
        }
    }

    /**
     * Writes {@code first} and the events already waiting behind it (up to {@link #BATCH}), then
     * flushes once: a burst of events costs one flush, not one each. True after the terminal event.
     */
    private static boolean writeReady(RunStream stream, Sink sink, RunEvent first) throws IOException, InterruptedException {
        RunEvent event = first;
        for (int written = 1; ; written++) {
            sink.event(event);
            if (event.isTerminal() || written == BATCH) {
                break;
            }
            Optional<RunEvent> ready = stream.next(Duration.ZERO);
            if (ready.isEmpty()) {
                break;
            }
            event = ready.get();
        }
        sink.flush();
        return event.isTerminal();
    }
}
