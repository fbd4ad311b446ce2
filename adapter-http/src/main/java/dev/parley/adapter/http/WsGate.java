package dev.parley.adapter.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.LimitExceededException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a WebSocket may hold: at most {@code maxUnauthenticatedWebSockets} sockets wait for their
 * {@code auth} frame at once on this server (more are closed at once, code 1013), and an
 * authenticated socket takes one of its user's stream slots ({@link StreamLimits}) until it closes
 * (a user at the limit gets an error frame {@code too_many_streams} and the close code 4429).
 */
final class WsGate {
    /** Close code of a socket refused because its user holds the most streams allowed (after HTTP 429). */
    static final int CLOSE_TOO_MANY_STREAMS = 4429;

    private final StreamLimits streams;
    private final int maxUnauthenticated;
    private final AtomicInteger unauthenticated = new AtomicInteger();

    WsGate(StreamLimits streams, int maxUnauthenticated) {
        this.streams = streams;
        this.maxUnauthenticated = maxUnauthenticated;
    }

    /** Counts a new socket as unauthenticated; false (and closed) when too many wait already. */
    boolean connected(WsSocket socket) {
        if (unauthenticated.incrementAndGet() > maxUnauthenticated) {
            unauthenticated.decrementAndGet();
            socket.session.close(WsEndpoint.CLOSE_TRY_AGAIN_LATER, "too many unauthenticated connections");
            return false;
        }
        socket.waitingForAuth = true;
        return true;
    }

    /** The socket's user is known: it takes a stream slot; false (error frame sent, closing) when the user has none left. */
    boolean authenticated(WsSocket socket, String userId, String requestId) {
        leaveWaiting(socket);
        try {
            socket.streamSlot = streams.acquire(userId);
            return true;
        } catch (LimitExceededException e) {
            ObjectNode frame = Json.object().put("type", "error").put("code", e.code()).put("message", e.getMessage())
                    .put("retry_after", Long.parseLong(Errors.retryAfter(e.retryAfter())));
            if (requestId != null) {
                frame.put("request_id", requestId);
            }
            socket.send(frame);
            socket.session.close(CLOSE_TOO_MANY_STREAMS, "too many streams");
            return false;
        }
    }

    /** The socket closed: frees what it held. */
    void closed(WsSocket socket) {
        leaveWaiting(socket);
        StreamLimits.Slot slot = socket.streamSlot;
        if (slot != null) {
            slot.close();
        }
    }

    int unauthenticated() {
        return unauthenticated.get();
    }

    private void leaveWaiting(WsSocket socket) {
        synchronized (socket) {
            if (socket.waitingForAuth) {
                socket.waitingForAuth = false;
                unauthenticated.decrementAndGet();
            }
        }
    }
}
