package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.RunId;
import dev.parley.chat.model.ThreadId;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The state of one WebSocket connection: its user, the runs it follows, the order of its run-changing frames, and its writes. */
final class WsSocket {
    static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(WsSocket.class);

    /** A run followed on a socket; {@code delivered} completes when its delivery has ended (after its terminal frame, normally). */
    record Followed(RunId runId, ThreadId threadId, String requestId, StreamDelivery delivery,
                            CompletableFuture<Void> delivered) {}

    /** What the endpoint needs of a WebSocket session. */
    interface Connection {
        boolean isOpen();

        /** Queues one text frame; {@code done} completes once it is written (or fails). */
        void sendText(String text, Callback done);

        /** Starts a close handshake. */
        void close(int code, String reason);

        /** Drops the connection without a handshake. */
        void disconnect();

        static Connection of(Session session) {
            return new Connection() {
                @Override
                public boolean isOpen() {
                    return session.isOpen();
                }

                @Override
                public void sendText(String text, Callback done) {
                    session.sendText(text, done);
                }

                @Override
                public void close(int code, String reason) {
                    session.close(code, reason, Callback.NOOP);
                }

                @Override
                public void disconnect() {
                    session.disconnect();
                }
            };
        }
    }


    final Connection session;
    final String sessionId = "ses_" + UUID.randomUUID().toString().replace("-", "");
    final ReentrantLock sendLock = new ReentrantLock();
    final Map<RunId, Followed> followed = new ConcurrentHashMap<>();
    volatile String userId;
    volatile RunId lastRun;
    volatile ScheduledFuture<?> authTimeout;
    /** Counted among the sockets waiting for their auth frame ({@link WsGate}); guarded by this socket. */
    boolean waitingForAuth;
    /** The user's stream slot the socket holds once authenticated. */
    volatile StreamLimits.Slot streamSlot;
    /** Completes once the last chat or cancel frame received has taken effect; guarded by {@code this}. */
    private CompletableFuture<Void> lastInOrder = CompletableFuture.completedFuture(null);

    WsSocket(Connection session) {
        this.session = session;
    }

    /**
     * Takes the next place in the socket's order of run-changing frames: answers the future of
     * the frame before, and makes {@code mine} the one the next frame waits for.
     */
    synchronized CompletableFuture<Void> takeTurn(CompletableFuture<Void> mine) {
        CompletableFuture<Void> before = lastInOrder;
        lastInOrder = mine;
        return before;
    }

    /** Sends one frame and waits for it to be written; false (and the socket closed) when it cannot be. */
    boolean send(ObjectNode frame) {
        return send(Json.write(frame));
    }

    /** {@link #send(ObjectNode)} of a frame already written as JSON text. */
    boolean send(String frame) {
        sendLock.lock();
        try {
            if (!session.isOpen()) {
                return false;
            }
            Callback.Completable done = new Callback.Completable();
            session.sendText(frame, done);
            done.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("Dropping WebSocket {} that cannot be written to: {}", sessionId, e.toString());
            session.disconnect();
            return false;
        } finally {
            sendLock.unlock();
        }
    }
}
