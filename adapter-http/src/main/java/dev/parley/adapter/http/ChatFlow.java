package dev.parley.adapter.http;

import dev.parley.chat.model.BusyPolicy;
import dev.parley.chat.model.DisconnectPolicy;
import dev.parley.chat.model.RunEvent;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import dev.parley.chat.port.in.AwaitedSend;
import dev.parley.chat.port.in.ChatUseCases;
import dev.parley.chat.port.in.SendMessageCommand;
import dev.parley.chat.port.in.SendReceipt;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The chat flow every transport shares: starting a chat (send with its busy policy and
 * idempotency, then follow the run with its disconnect policy and the resume rules) and the one
 * delivery ({@link StreamDelivery}) that moves a run's events into a {@link Sink} with heartbeats,
 * stream metrics and the terminal event, pushed by the run's subscription (no thread waits for an
 * idle run). A transport only says how a frame is written.
 */
public final class ChatFlow {
    private final ChatUseCases chat;
    private final ParleyMetrics metrics;
    private final Duration heartbeat;
    private final StreamLimits streams;
    /** The streams open now, ended when the server stops. */
    private final Set<StreamDelivery> open = ConcurrentHashMap.newKeySet();

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

    /**
     * How a transport writes a followed run's frames; an {@link IOException} from any method means the
     * client is gone. Its methods are called one at a time (on the bus's delivery threads, and heartbeats
     * on a thread of their own), never concurrently.
     */
    public interface Sink {
        /** Whether a WebSocket carries the stream (the metrics' transport). */
        boolean webSocket();

        /**
         * Called once before the first event or heartbeat; what it writes (headers, say) goes out with the next
         * {@link #flush}, together with the first events when there are some.
         */
        default void open() throws IOException {}

        /** Writes (or queues until {@link #flush}) one event. */
        void event(RunEvent event) throws IOException;

        /** Writes (or queues until {@link #flush}) one heartbeat. */
        void heartbeat() throws IOException;

        /** Hands what was written to the client. */
        default void flush() throws IOException {}

        /** False once the client is known to be gone, or the transport has written its last frame. */
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
        return chat.send(command(userId, threadId, request, defaultBusy, idempotencyKey));
    }

    /**
     * {@link #send}, then waits up to {@code timeout} for the run, for a caller that answers once the run is
     * over (a sync reply): the run may execute on the calling thread meanwhile (see
     * {@link ChatUseCases#sendAndAwait(SendMessageCommand, Duration, Consumer)}), sparing the hand-offs
     * to a run thread and back. A failure after the send names the run (see {@link #afterSend}).
     */
    AwaitedSend sendAndAwait(String userId, ThreadId threadId, Requests.Chat request, BusyPolicy defaultBusy,
                             String idempotencyKey, Duration timeout, String requestId) throws InterruptedException {
        SendReceipt[] sent = new SendReceipt[1];
        try {
            return chat.sendAndAwait(command(userId, threadId, request, defaultBusy, idempotencyKey), timeout, r -> sent[0] = r);
        } catch (RuntimeException e) {
            throw sent[0] == null ? e : afterSend(e, sent[0], requestId);
        }
    }

    private static SendMessageCommand command(String userId, ThreadId threadId, Requests.Chat request, BusyPolicy defaultBusy,
                                              String idempotencyKey) {
        BusyPolicy ifBusy = request.ifBusy() == null ? defaultBusy : request.ifBusy();
        return new SendMessageCommand(userId, threadId, request.agentId(), request.content(), ifBusy,
                idempotencyKey, request.metadata(), request.variables()).withModelSettings(request.modelSettings());
    }

    /**
     * A run to follow for a user: its events after {@code afterSeq}, with a disconnect policy. After a send,
     * {@code receipt} is the send's (a failure to follow then names the run), else null.
     */
    public record Follow(String userId, ThreadId threadId, RunId runId, long afterSeq, DisconnectPolicy onDisconnect,
                         SendReceipt receipt, String requestId) {
        public Follow {
            onDisconnect = onDisconnect == null ? DisconnectPolicy.CONTINUE : onDisconnect;
        }
    }

    /**
     * Following the run {@code receipt} started, with the request's disconnect policy ({@code continue}
     * when it names none). A new run is followed from its first event; a retry that joined the original
     * run (same idempotency key) resumes after {@code lastSeenSeq}, as {@code /events} does.
     */
    Follow follow(String userId, SendReceipt receipt, Requests.Chat request, long lastSeenSeq, String requestId) {
        long after = receipt.replayed() ? lastSeenSeq : 0;
        return new Follow(userId, receipt.thread().id(), receipt.run().id(), after, request.onDisconnect(), receipt, requestId);
    }

    /**
     * Subscribes to the run {@code follow} names, its events to be written by {@code sink} once the
     * returned delivery is {@linkplain StreamDelivery#attach attached}; {@code onEnd} hears how the stream
     * ended, once, after its last write. A failure to subscribe (the run or thread not found, the log
     * expired, the store unreachable) is thrown, naming the run after a send (see {@link #afterSend}), and
     * {@code sink} is never called.
     */
    StreamDelivery start(Follow follow, Sink sink, Consumer<StreamDelivery.End> onEnd) {
        StreamDelivery delivery = new StreamDelivery(sink, metrics, heartbeat.toNanos(), open, onEnd);
        open.add(delivery);
        try {
            delivery.subscribed(chat.subscribe(follow.userId(), follow.threadId(), follow.runId(), follow.afterSeq(),
                    follow.onDisconnect(), delivery));
        } catch (RuntimeException e) {
            open.remove(delivery);
            throw follow.receipt() == null ? e : afterSend(e, follow.receipt(), follow.requestId());
        }
        return delivery;
    }

    /** Ends every open stream (the server stops; clients resume elsewhere with {@code Last-Event-ID}). */
    void shutdown() {
        open.forEach(StreamDelivery::close);
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
}
